package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testInstance = "arn:aws:sso:::instance/ssoins-0123456789abcdef"
	testPS1      = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef"
	testPS2      = "arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-fedcba9876543210"
	testAcct1    = "111111111111"
	testAcct2    = "222222222222"
)

// testFixture: two accounts, two permission sets (the second wide), u1 in
// g1 and g2 (heavy, 7 assignments), u2 in no group.
func testFixture() *accessFixture {
	return &accessFixture{instanceARN: testInstance, storeID: testStore,
		accounts: []string{testAcct1, testAcct2},
		permSets: []fixturePermSet{{arn: testPS1, name: "ps-1"}, {arn: testPS2, name: "ps-wide", wide: true}},
		groups:   []dirGroup{{testG1, "g1"}, {testG2, "g2"}},
		users:    []fixtureUser{{id: testU1, name: "heavy", groups: []int32{0, 1}, assignments: 7}, {id: testU2, name: "plain", assignments: 1}},
		heavy:    []int32{0},
	}
}

func TestAccessIDsRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := writeAccessIDs(&buf, testFixture()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 9 {
		t.Errorf("%d lines, want 9:\n%s", n, buf.String())
	}
	got, err := parseAccessIDs(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(testFixture()) || fmt.Sprintf("%+v", got.users) != fmt.Sprintf("%+v", testFixture().users) ||
		fmt.Sprint(got.heavy) != "[0]" || got.widePermissionSet().arn != testPS2 {
		t.Errorf("round trip:\n%+v\nwant\n%+v", got, testFixture())
	}
	if s := got.String(); s != "instance "+testInstance+" (identity store "+testStore+"): 2 accounts, 2 permission sets, 2 users (1 heavy), 2 groups" {
		t.Errorf("String() = %q", s)
	}

	path := filepath.Join(t.TempDir(), "access.jsonl")
	if err := saveAccessIDs(path, testFixture()); err != nil {
		t.Fatal(err)
	}
	if f, err := readAccessIDs(path); err != nil || len(f.accounts) != 2 {
		t.Errorf("saved and read: %v, %v", f, err)
	}
}

func TestParseAccessIDsErrors(t *testing.T) {
	inst := `{"kind":"instance","id":"` + testInstance + `","store":"` + testStore + `"}` + "\n"
	for name, body := range map[string]string{
		"empty":              "",
		"no instance first":  `{"kind":"account","id":"111111111111"}` + "\n" + inst,
		"two instances":      inst + inst,
		"bad instance":       `{"kind":"instance","id":"arn:aws:sso:::instance/x","store":"` + testStore + `"}`,
		"bad store":          `{"kind":"instance","id":"` + testInstance + `","store":"store"}`,
		"bad account":        inst + `{"kind":"account","id":"1234"}`,
		"account twice":      inst + `{"kind":"account","id":"111111111111"}` + "\n" + `{"kind":"account","id":"111111111111"}`,
		"ps without arn":     inst + `{"kind":"permission-set","id":"ps-1","name":"x"}`,
		"ps without name":    inst + `{"kind":"permission-set","id":"` + testPS1 + `"}`,
		"wide account":       inst + `{"kind":"account","id":"111111111111","wide":true}`,
		"group with groups":  inst + `{"kind":"group","id":"` + testG1 + `","groups":["` + testG1 + `"]}`,
		"unlisted group":     inst + `{"kind":"user","id":"` + testU1 + `","name":"u","groups":["` + testG1 + `"]}`,
		"group twice":        inst + `{"kind":"group","id":"` + testG1 + `"}` + "\n" + `{"kind":"user","id":"` + testU1 + `","groups":["` + testG1 + `","` + testG1 + `"]}`,
		"negative count":     inst + `{"kind":"user","id":"` + testU1 + `","assignments":-1}`,
		"bad user id":        inst + `{"kind":"user","id":"alice"}`,
		"unknown kind":       inst + `{"kind":"role","id":"x"}`,
		"unknown field":      inst + `{"kind":"account","id":"111111111111","email":"x"}`,
		"no id":              inst + `{"kind":"account"}`,
		"store on a user":    inst + `{"kind":"user","id":"` + testU1 + `","store":"` + testStore + `"}`,
		"not JSON":           inst + `account 1`,
		"heavy on a group":   inst + `{"kind":"group","id":"` + testG1 + `","heavy":true}`,
		"counted on a group": inst + `{"kind":"group","id":"` + testG1 + `","assignments":3}`,
	} {
		if _, err := parseAccessIDs(strings.NewReader(body)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	// moto's identity stores are d- and ten letters.
	if _, err := parseAccessIDs(strings.NewReader(`{"kind":"instance","id":"arn:aws:sso:::instance/ssoins-jbgjupo400cyrrsy","store":"d-u0nubozrhp"}`)); err != nil {
		t.Errorf("moto's instance: %v", err)
	}
}

func TestAccessRequestBodies(t *testing.T) {
	want := assignmentRequest{account: testAcct1, permSet: testPS1, principal: principal{"GROUP", testG1}}
	for _, tt := range []struct {
		name string
		body []byte
		want string
	}{
		{"describe permission set", describePermissionSetBody(testInstance, testPS1),
			`{"InstanceArn":"` + testInstance + `","PermissionSetArn":"` + testPS1 + `"}`},
		{"create permission set", createPermissionSetBody(testInstance, "load-run-x", "a run"),
			`{"InstanceArn":"` + testInstance + `","Name":"load-run-x","Description":"a run","SessionDuration":"PT4H"}`},
		{"create assignment", createAssignmentBody(testInstance, want),
			`{"InstanceArn":"` + testInstance + `","TargetId":"` + testAcct1 + `","TargetType":"AWS_ACCOUNT","PermissionSetArn":"` + testPS1 +
				`","PrincipalType":"GROUP","PrincipalId":"` + testG1 + `"}`},
		{"creation status", describeCreationStatusBody(testInstance, "req-1"),
			`{"InstanceArn":"` + testInstance + `","AccountAssignmentCreationRequestId":"req-1"}`},
		{"first page", listForPrincipalBody(testInstance, testU1, ""),
			`{"InstanceArn":"` + testInstance + `","PrincipalId":"` + testU1 + `","PrincipalType":"USER","MaxResults":100}`},
		{"next page", listForPrincipalBody(testInstance, testU1, "tok"),
			`{"InstanceArn":"` + testInstance + `","PrincipalId":"` + testU1 + `","PrincipalType":"USER","MaxResults":100,"NextToken":"tok"}`},
		{"provision", mustJSON(provisionIn{InstanceArn: testInstance, PermissionSetArn: testPS2, TargetType: "ALL_PROVISIONED_ACCOUNTS"}),
			`{"InstanceArn":"` + testInstance + `","PermissionSetArn":"` + testPS2 + `","TargetType":"ALL_PROVISIONED_ACCOUNTS"}`},
		{"outdated accounts", mustJSON(listProvisionedAccountsIn{InstanceArn: testInstance, PermissionSetArn: testPS2,
			ProvisioningStatus: "LATEST_PERMISSION_SET_NOT_PROVISIONED", MaxResults: 100}),
			`{"InstanceArn":"` + testInstance + `","PermissionSetArn":"` + testPS2 + `","ProvisioningStatus":"LATEST_PERMISSION_SET_NOT_PROVISIONED","MaxResults":100}`},
		{"all accounts", mustJSON(listProvisionedAccountsIn{InstanceArn: testInstance, PermissionSetArn: testPS2, MaxResults: 100}),
			`{"InstanceArn":"` + testInstance + `","PermissionSetArn":"` + testPS2 + `","MaxResults":100}`},
		{"create account", mustJSON(createAccountIn{Email: "a@example.com", AccountName: "a"}), `{"Email":"a@example.com","AccountName":"a"}`},
	} {
		if string(tt.body) != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, tt.body, tt.want)
		}
	}
}

func TestAccessAnswerParsers(t *testing.T) {
	if err := checkDescribePermissionSet([]byte(`{"PermissionSet":{"Name":"ps-1","PermissionSetArn":"`+testPS1+`"}}`), testPS1, "ps-1"); err != nil {
		t.Error(err)
	}
	for _, b := range []string{`{}`, `{"PermissionSet":{"Name":"ps-1","PermissionSetArn":"` + testPS2 + `"}}`,
		`{"PermissionSet":{"Name":"other","PermissionSetArn":"` + testPS1 + `"}}`, `nope`} {
		if checkDescribePermissionSet([]byte(b), testPS1, "ps-1") == nil {
			t.Errorf("DescribePermissionSet %s passed", b)
		}
	}
	if arn, err := parseCreatePermissionSet([]byte(`{"PermissionSet":{"Name":"n","PermissionSetArn":"`+testPS1+`"}}`), "n"); err != nil || arn != testPS1 {
		t.Errorf("CreatePermissionSet: %q, %v", arn, err)
	}
	if _, err := parseCreatePermissionSet([]byte(`{"PermissionSet":{"Name":"m","PermissionSetArn":"`+testPS1+`"}}`), "n"); err == nil {
		t.Error("another permission set's name passed")
	}

	want := assignmentRequest{account: testAcct1, permSet: testPS1, principal: principal{"USER", testU1}}
	status := func(s, acct, ps, typ, id string) []byte {
		return []byte(`{"AccountAssignmentCreationStatus":{"Status":"` + s + `","RequestId":"r-1","FailureReason":"why","TargetId":"` + acct +
			`","TargetType":"AWS_ACCOUNT","PermissionSetArn":"` + ps + `","PrincipalType":"` + typ + `","PrincipalId":"` + id + `","CreatedDate":1.5}}`)
	}
	st, err := parseAssignmentStatus(status("IN_PROGRESS", testAcct1, testPS1, "USER", testU1), "AccountAssignmentCreationStatus", want)
	if err != nil || st.status != statusInProgress || st.requestID != "r-1" || st.reason != "why" {
		t.Errorf("status: %+v, %v", st, err)
	}
	// Describe answers are read without a request to compare with.
	if _, err := parseAssignmentStatus(status("SUCCEEDED", "", "", "", ""), "AccountAssignmentCreationStatus", assignmentRequest{}); err != nil {
		t.Error(err)
	}
	for name, b := range map[string][]byte{
		"other account":   status("SUCCEEDED", testAcct2, testPS1, "USER", testU1),
		"other set":       status("SUCCEEDED", testAcct1, testPS2, "USER", testU1),
		"other principal": status("SUCCEEDED", testAcct1, testPS1, "GROUP", testU1),
		"odd status":      status("DONE", testAcct1, testPS1, "USER", testU1),
		"deletion":        []byte(`{"AccountAssignmentDeletionStatus":{"Status":"SUCCEEDED","RequestId":"r"}}`),
		"no request id":   []byte(`{"AccountAssignmentCreationStatus":{"Status":"SUCCEEDED"}}`),
	} {
		if _, err := parseAssignmentStatus(b, "AccountAssignmentCreationStatus", want); err == nil {
			t.Errorf("%s passed", name)
		}
	}

	acts := map[string]bool{"USER " + testU1: true, "GROUP " + testG1: true}
	page := `{"AccountAssignments":[{"AccountId":"` + testAcct1 + `","PermissionSetArn":"` + testPS1 + `","PrincipalType":"USER","PrincipalId":"` + testU1 +
		`"},{"AccountId":"` + testAcct2 + `","PermissionSetArn":"` + testPS1 + `","PrincipalType":"GROUP","PrincipalId":"` + testG1 + `"}],"NextToken":"t2"}`
	if n, next, err := checkAssignmentsPage([]byte(page), acts); n != 2 || next != "t2" || err != nil {
		t.Errorf("page: %d, %q, %v", n, next, err)
	}
	if n, next, err := checkAssignmentsPage([]byte(`{"AccountAssignments":[]}`), acts); n != 0 || next != "" || err != nil {
		t.Errorf("empty page: %d, %q, %v", n, next, err)
	}
	for _, b := range []string{`{}`, strings.Replace(page, testG1, testG2, 1), strings.Replace(page, testAcct2, "2", 1)} {
		if _, _, err := checkAssignmentsPage([]byte(b), acts); err == nil {
			t.Errorf("page %s passed", b)
		}
	}

	arn, store, err := parseInstance([]byte(`{"Instances":[{"InstanceArn":"` + testInstance + `","IdentityStoreId":"` + testStore + `"}]}`))
	if arn != testInstance || store != testStore || err != nil {
		t.Errorf("ListInstances: %q %q %v", arn, store, err)
	}
	if _, _, err := parseInstance([]byte(`{"Instances":[]}`)); err == nil {
		t.Error("no instance passed")
	}

	ps, err := parseProvisioningStatus([]byte(`{"PermissionSetProvisioningStatus":{"Status":"IN_PROGRESS","RequestId":"p-1","PermissionSetArn":"`+testPS2+`"}}`), testPS2)
	if err != nil || ps.status != statusInProgress || ps.requestID != "p-1" {
		t.Errorf("provisioning status: %+v, %v", ps, err)
	}
	if _, err := parseProvisioningStatus([]byte(`{"PermissionSetProvisioningStatus":{"Status":"SUCCEEDED","RequestId":"p-1","PermissionSetArn":"`+testPS1+`"}}`), testPS2); err == nil {
		t.Error("another permission set's status passed")
	}
	ids, next, err := parseAccountIDsPage([]byte(`{"AccountIds":["` + testAcct1 + `","` + testAcct2 + `"],"NextToken":"n"}`))
	if len(ids) != 2 || next != "n" || err != nil {
		t.Errorf("account ids: %v %q %v", ids, next, err)
	}
	if _, _, err := parseAccountIDsPage([]byte(`{"AccountIds":["12"]}`)); err == nil {
		t.Error("a bad account id passed")
	}

	ca, err := parseCreateAccountStatus([]byte(`{"CreateAccountStatus":{"Id":"car-1","State":"SUCCEEDED","AccountId":"` + testAcct1 + `"}}`))
	if err != nil || ca.accountID != testAcct1 || ca.id != "car-1" {
		t.Errorf("CreateAccountStatus: %+v, %v", ca, err)
	}
	for _, b := range []string{`{"CreateAccountStatus":{"Id":"car-1","State":"SUCCEEDED"}}`, `{"CreateAccountStatus":{"State":"IN_PROGRESS"}}`, `{}`} {
		if _, err := parseCreateAccountStatus([]byte(b)); err == nil {
			t.Errorf("CreateAccountStatus %s passed", b)
		}
	}
	accts, next, err := parseListAccountsPage([]byte(`{"Accounts":[{"Id":"` + testAcct1 + `","Name":"a","Email":"a@example.com"}],"NextToken":"x"}`))
	if err != nil || len(accts) != 1 || accts[0].email != "a@example.com" || next != "x" {
		t.Errorf("ListAccounts: %+v %q %v", accts, next, err)
	}
	sets, _, err := parsePermissionSetsPage([]byte(`{"PermissionSets":["` + testPS1 + `"]}`))
	if err != nil || len(sets) != 1 {
		t.Errorf("ListPermissionSets: %v %v", sets, err)
	}
}

// Every pair of a walk comes once, in the order the spread says.
func TestPairAt(t *testing.T) {
	for _, spread := range []string{spreadAccounts, spreadPrincipals} {
		seen := map[[2]int]bool{}
		var order [][2]int
		for i := int64(0); ; i++ {
			a, p, ok := pairAt(i, 3, 4, spread)
			if !ok {
				break
			}
			if a < 0 || a >= 3 || p < 0 || p >= 4 || seen[[2]int{a, p}] {
				t.Fatalf("%s: pair %d = (%d, %d)", spread, i, a, p)
			}
			seen[[2]int{a, p}] = true
			order = append(order, [2]int{a, p})
		}
		if len(seen) != 12 {
			t.Errorf("%s: %d pairs, want 12", spread, len(seen))
		}
		first := fmt.Sprint(order[:3])
		if spread == spreadAccounts && first != "[[0 0] [1 0] [2 0]]" || spread == spreadPrincipals && first != "[[0 0] [0 1] [0 2]]" {
			t.Errorf("%s starts %s", spread, first)
		}
	}
	if _, _, ok := pairAt(-1, 3, 4, spreadAccounts); ok {
		t.Error("a negative index made a pair")
	}
}

// The create ops leave alone what the list op counts: heavy users and their groups.
func TestAssignablePrincipals(t *testing.T) {
	f := testFixture()
	f.groups = append(f.groups, dirGroup{testG3, "g3"})
	if got := fmt.Sprint(assignablePrincipals(f)); got != fmt.Sprint([]principal{{"USER", testU2}, {"GROUP", testG3}}) {
		t.Errorf("assignable: %s", got)
	}
}

func TestDistinct(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tt := range []struct {
		n     int
		space int64
		want  int
	}{{0, 10, 0}, {5, 10, 5}, {9, 10, 9}, {10, 10, 10}, {20, 10, 10}, {3, 1_000_000_000, 3}, {1, 0, 0}} {
		got := distinct(rng, tt.n, tt.space)
		seen := map[int64]bool{}
		for _, k := range got {
			if k < 0 || k >= tt.space || seen[k] {
				t.Fatalf("distinct(%d, %d) = %v", tt.n, tt.space, got)
			}
			seen[k] = true
		}
		if len(got) != tt.want {
			t.Errorf("distinct(%d, %d): %d numbers, want %d", tt.n, tt.space, len(got), tt.want)
		}
	}
}

// The plan gives the wide permission set to one group in every account, each
// heavy user the assignments it asks for, and never one triple twice.
func TestPlanAccess(t *testing.T) {
	o, err := parseSeedAccessFlags([]string{"--ids", "/tmp/x", "--accounts", "30", "--permission-sets", "4", "--users", "12", "--groups", "6",
		"--groups-per-user", "2", "--heavy-users", "3", "--heavy-groups", "5", "--heavy-assignments", "100", "--assignments", "40"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p := planAccess(o)
	if len(p.accountNames) != 30 || len(p.permSetNames) != 5 || p.permSetNames[4] != "load-ps-wide" || len(p.groupNames) != 12 ||
		p.groupNames[11] != "load-group-wide" || len(p.userNames) != 15 || fmt.Sprint(p.heavyUsers) != "[12 13 14]" {
		t.Fatalf("plan: %d accounts, sets %v, groups %v, users %v, heavy %v", len(p.accountNames), p.permSetNames, p.groupNames, p.userNames, p.heavyUsers)
	}
	if len(p.memberships) != 12*2+3*5 {
		t.Errorf("%d memberships, want %d", len(p.memberships), 12*2+3*5)
	}
	perGroup, direct := o.heavySplit()
	if perGroup != 19 || direct != 5 {
		t.Errorf("heavy split %d per group + %d own", perGroup, direct)
	}
	seen := map[plannedAssignment]bool{}
	wide, byGroup, byUser := 0, map[int32]int{}, map[int32]int{}
	for _, a := range p.assignments {
		if seen[a] {
			t.Fatalf("planned twice: %+v", a)
		}
		seen[a] = true
		switch {
		case a.permSet == 4:
			if !a.group || a.principal != 11 {
				t.Errorf("the wide permission set given to %+v", a)
			}
			wide++
		case a.group:
			byGroup[a.principal]++
		default:
			byUser[a.principal]++
		}
		if a.account < 0 || a.account >= 30 || a.permSet < 0 || a.permSet > 4 {
			t.Errorf("out of range: %+v", a)
		}
	}
	if wide != 30 {
		t.Errorf("wide permission set in %d accounts", wide)
	}
	for g := int32(6); g < 11; g++ {
		if byGroup[g] != 19 {
			t.Errorf("heavy group %d has %d assignments", g, byGroup[g])
		}
	}
	for _, u := range p.heavyUsers {
		if byUser[u] != 5 {
			t.Errorf("heavy user %d has %d of its own", u, byUser[u])
		}
	}
	if len(p.assignments) != 30+5*19+3*5+40 {
		t.Errorf("%d assignments planned", len(p.assignments))
	}
	if fmt.Sprint(planAccess(o).assignments) != fmt.Sprint(p.assignments) {
		t.Error("the same seed planned differently")
	}

	// What was made counts: a heavy user sees its own and its groups' assignments.
	n := func(k int, prefix string) []string {
		out := make([]string, k)
		for i := range out {
			out[i] = fmt.Sprintf("%s%d", prefix, i)
		}
		return out
	}
	uuid := func(i int) string { return fmt.Sprintf("0123456789-%08x-1111-1111-1111-111111111111", i) }
	accountIDs := make([]string, 30)
	for i := range accountIDs {
		accountIDs[i] = fmt.Sprintf("%012d", i+1)
	}
	groupIDs, userIDs := make([]string, 12), make([]string, 15)
	for i := range groupIDs {
		groupIDs[i] = uuid(1000 + i)
	}
	for i := range userIDs {
		userIDs[i] = uuid(i)
	}
	memberMade, assignMade := make([]bool, len(p.memberships)), make([]bool, len(p.assignments))
	for i := range memberMade {
		memberMade[i] = true
	}
	for i := range assignMade {
		assignMade[i] = true
	}
	f := accessFixtureOf(p, testInstance, testStore, accountIDs, n(5, "arn:ps-"), groupIDs, userIDs, memberMade, assignMade)
	if len(f.heavy) != 3 || len(f.accounts) != 30 || f.widePermissionSet().name != "load-ps-wide" {
		t.Fatalf("fixture %s", f)
	}
	for _, h := range f.heavy {
		if u := f.users[h]; u.assignments != 100 || len(u.groups) != 5 {
			t.Errorf("heavy user %s: %d assignments in %d groups", u.name, u.assignments, len(u.groups))
		}
	}
	// One heavy user's own assignment not made: it sees one fewer, the others do not.
	for i, a := range p.assignments {
		if !a.group && a.principal == p.heavyUsers[0] {
			assignMade[i] = false
			break
		}
	}
	f = accessFixtureOf(p, testInstance, testStore, accountIDs, n(5, "arn:ps-"), groupIDs, userIDs, memberMade, assignMade)
	if f.users[f.heavy[0]].assignments != 99 || f.users[f.heavy[1]].assignments != 100 {
		t.Errorf("after a failure: %d and %d", f.users[f.heavy[0]].assignments, f.users[f.heavy[1]].assignments)
	}
}

func TestAccessFlags(t *testing.T) {
	ok := [][]string{
		{"--op", "describe-permission-set", "--ids", "/tmp/a"},
		{"--op", "create-account-assignment", "--ids", "/tmp/a", "--assign-spread", "principals"},
		{"--op", "create-account-assignment-wait", "--ids", "/tmp/a", "--poll", "5ms", "--assign-spread", "accounts"},
		{"--op", "list-account-assignments-for-principal", "--ids", "/tmp/a", "--access-key", "a", "--secret-key", "b"},
	}
	for _, args := range ok {
		if _, err := parseFlags(args, io.Discard); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
	bad := map[string][]string{
		"no ids":            {"--op", "describe-permission-set"},
		"store id":          {"--op", "describe-permission-set", "--ids", "/tmp/a", "--identity-store-id", testStore},
		"poll elsewhere":    {"--op", "create-account-assignment", "--ids", "/tmp/a", "--poll", "5ms"},
		"poll too long":     {"--op", "create-account-assignment-wait", "--ids", "/tmp/a", "--poll", "2s"},
		"negative poll":     {"--op", "create-account-assignment-wait", "--ids", "/tmp/a", "--poll", "-1ms"},
		"spread elsewhere":  {"--op", "describe-permission-set", "--ids", "/tmp/a", "--assign-spread", "accounts"},
		"unknown spread":    {"--op", "create-account-assignment", "--ids", "/tmp/a", "--assign-spread", "random"},
		"spread on org op":  {"--assign-spread", "accounts"},
		"poll on an org op": {"--poll", "2ms"},
	}
	for name, args := range bad {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%s: %q accepted", name, args)
		}
	}

	o, err := parseSeedAccessFlags([]string{"--ids", "/tmp/a"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.accounts != 1000 || o.heavyGroups != 50 || o.heavyAssignments != 1000 || o.prefix != "load" || o.concurrency != 16 {
		t.Errorf("seed-access defaults %+v", o)
	}
	badSeed := map[string][]string{
		"no ids":              {},
		"no accounts":         {"--ids", "x", "--accounts", "0"},
		"too many accounts":   {"--ids", "x", "--accounts", "10001"},
		"no permission sets":  {"--ids", "x", "--permission-sets", "0"},
		"groups per user":     {"--ids", "x", "--groups", "2", "--groups-per-user", "3"},
		"heavy beyond pairs":  {"--ids", "x", "--accounts", "2", "--permission-sets", "2", "--heavy-groups", "1", "--heavy-assignments", "100"},
		"assignments":         {"--ids", "x", "--accounts", "1", "--permission-sets", "1", "--users", "1", "--groups", "0", "--groups-per-user", "0", "--assignments", "2"},
		"long prefix":         {"--ids", "x", "--prefix", "a-very-long-prefix-x"},
		"bad prefix":          {"--ids", "x", "--prefix", "Load"},
		"too many heavy":      {"--ids", "x", "--heavy-users", "1001"},
		"negative":            {"--ids", "x", "--assignments", "-1"},
		"stray":               {"--ids", "x", "extra"},
		"half a key":          {"--ids", "x", "--secret-key", "s"},
		"zero concurrency":    {"--ids", "x", "--concurrency", "0"},
		"heavy too many sets": {"--ids", "x", "--heavy-assignments", "10001"},
	}
	for name, args := range badSeed {
		if _, err := parseSeedAccessFlags(args, io.Discard); err == nil {
			t.Errorf("seed-access %s: %q accepted", name, args)
		}
	}
	if _, err := parseProvisionFlags([]string{"--ids", "x"}, io.Discard); err != nil {
		t.Error(err)
	}
	for name, args := range map[string][]string{
		"no ids": {}, "runs": {"--ids", "x", "--runs", "0"}, "poll": {"--ids", "x", "--poll", "0s"}, "pid": {"--ids", "x", "--measure-server", "-1"},
	} {
		if _, err := parseProvisionFlags(args, io.Discard); err == nil {
			t.Errorf("measure-provision %s: %q accepted", name, args)
		}
	}
}

// TestSeedAccessAndLoad seeds a small fixture through the APIs of a real
// server, runs each sso-admin op on it, and pushes a change of the wide
// permission set to every account.
func TestSeedAccessAndLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	s := openServer(t)
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	ids := filepath.Join(t.TempDir(), "access.jsonl")
	seedArgs := []string{"seed-access", "--endpoint", hs.URL, "--accounts", "12", "--permission-sets", "3", "--users", "60", "--groups", "4",
		"--groups-per-user", "2", "--heavy-users", "2", "--heavy-groups", "5", "--heavy-assignments", "30", "--assignments", "10",
		"--concurrency", "4", "--progress", "0", "--ids", ids, "--json"}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), seedArgs, &stdout, &stderr, keyEnv); code != 0 {
		t.Fatalf("seed-access: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	var res seedAccessResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	created := map[string]int64{}
	for _, p := range res.Phases {
		created[p.Kind] = p.Created + p.Existing
	}
	// 12 wide + 5 groups × 28/5=5 + 2 users × 5 own + 10.
	if res.Errors != 0 || created["accounts"] != 12 || created["permission sets"] != 4 || created["groups"] != 10 || created["users"] != 62 ||
		created["memberships"] != 60*2+2*5 || created["assignments"] != 12+25+10+10 {
		t.Fatalf("seed-access: %s", stdout.String())
	}
	f, err := readAccessIDs(ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.accounts) != 12 || len(f.heavy) != 2 || f.users[f.heavy[0]].assignments != 30 || f.widePermissionSet() == nil {
		t.Fatalf("fixture %s, heavy %+v", f, f.users[f.heavy[0]])
	}

	for _, op := range []string{"describe-permission-set", "list-account-assignments-for-principal", "create-account-assignment", "create-account-assignment-wait"} {
		stdout.Reset()
		stderr.Reset()
		args := []string{"--endpoint", hs.URL, "--op", op, "--ids", ids, "--concurrency", "2", "--duration", "300ms", "--warmup", "50ms", "--json"}
		if code := run(context.Background(), args, &stdout, &stderr, keyEnv); code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", op, code, stdout.String(), stderr.String())
		}
		var lr loadResult
		json.Unmarshal(stdout.Bytes(), &lr)
		if lr.Errors != 0 || lr.Requests == 0 || !strings.Contains(lr.Directory, f.instanceARN) {
			t.Errorf("%s: %s", op, stdout.String())
		}
		if op == "create-account-assignment" && (!strings.Contains(lr.After, "0 FAILED, 0 unsettled") || !strings.Contains(lr.After, "/s from the first call's answer")) {
			t.Errorf("%s: after the window %q", op, lr.After)
		}
	}

	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"measure-provision", "--endpoint", hs.URL, "--ids", ids, "--runs", "2", "--json"}, &stdout, &stderr, keyEnv); code != 0 {
		t.Fatalf("measure-provision: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	var pr provisionResult
	json.Unmarshal(stdout.Bytes(), &pr)
	if len(pr.Runs) != 2 || pr.Runs[1].Accounts != 12 || pr.Runs[1].OutdatedBefore != 12 || pr.Runs[1].OutdatedAfter != 0 || pr.MedianSeconds <= 0 {
		t.Errorf("measure-provision: %s", stdout.String())
	}
}

// fakeRequests answers the two status calls the settling makes: the list of
// requests IN_PROGRESS (in pages of one, another run's request first) and
// each request's status.
type fakeRequests struct {
	mu          sync.Mutex
	listCalls   int
	listedUntil int    // the list shows r1 and r2 IN_PROGRESS to this many calls
	listFails   bool   // the list answers an error
	lateID      string // IN_PROGRESS on its first Describe, whatever the list said
	described   map[string]int
}

func (f *fakeRequests) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var in struct {
		NextToken                          string
		Filter                             struct{ Status string }
		AccountAssignmentCreationRequestId string
	}
	json.NewDecoder(r.Body).Decode(&in)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	switch op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), ssoTargetPrefix); op {
	case "ListAccountAssignmentCreationStatus":
		if f.listFails || in.Filter.Status != statusInProgress {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"ValidationException","message":"no"}`)
			return
		}
		if in.NextToken == "" {
			f.listCalls++
		}
		page := map[string]string{"": "another-run", "t1": "r1", "t2": "r2"}[in.NextToken]
		next := map[string]string{"": "t1", "t1": "t2"}[in.NextToken]
		if page != "another-run" && f.listCalls > f.listedUntil {
			fmt.Fprint(w, `{"AccountAssignmentsCreationStatus":[]}`)
			return
		}
		fmt.Fprintf(w, `{"AccountAssignmentsCreationStatus":[{"Status":"IN_PROGRESS","RequestId":%q}],"NextToken":%q}`, page, next)
	case "DescribeAccountAssignmentCreationStatus":
		id := in.AccountAssignmentCreationRequestId
		f.described[id]++
		status := statusSucceeded
		if id == f.lateID && f.described[id] == 1 {
			status = statusInProgress
		}
		fmt.Fprintf(w, `{"AccountAssignmentCreationStatus":{"Status":%q,"RequestId":%q}}`, status, id)
	default:
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"__type":"UnknownOperationException","message":%q}`, op)
	}
}

// The rate of assignments done is timed to when the server's list of
// requests IN_PROGRESS no longer holds the run's, not to the end of reading
// every outcome one by one; and says when it could not be.
func TestSettleRequestsTimesTheWorkNotTheReading(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fake       *fakeRequests
		wantLists  int
		wantTiming string
	}{
		{"list empties after three polls", &fakeRequests{listedUntil: 3}, 4, ""},
		{"list fails", &fakeRequests{listFails: true}, 0, "the list of requests IN_PROGRESS failed"},
		{"request outlives the list", &fakeRequests{lateID: "r2"}, 1, "1 requests were still IN_PROGRESS after the list showed none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.fake
			f.described = map[string]int{}
			hs := httptest.NewServer(f)
			defer hs.Close()
			tgt, err := newTarget(context.Background(), hs.URL, nil, 2, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer tgt.close()
			after, bad := settleRequests(context.Background(), tgt, benchCreds(), testInstance, []string{"r1", "r2"}, time.Now().Add(-time.Second), 2)
			if bad != 0 || !strings.Contains(after, "2 SUCCEEDED, 0 FAILED, 0 unsettled") || !strings.Contains(after, "/s from the first call's answer") {
				t.Fatalf("after %q, %d bad", after, bad)
			}
			if f.listCalls != tc.wantLists {
				t.Errorf("the list was polled %d times, want %d (%q)", f.listCalls, tc.wantLists, after)
			}
			if f.described["r1"] == 0 || f.described["r2"] == 0 {
				t.Errorf("outcomes read: %v", f.described)
			}
			switch {
			case tc.wantTiming == "" && strings.Contains(after, "timed to the last outcome read"):
				t.Errorf("timed to the reads: %q", after)
			case tc.wantTiming != "" && !strings.Contains(after, tc.wantTiming):
				t.Errorf("after %q, want it to say %q", after, tc.wantTiming)
			}
		})
	}
}
