package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	testStore = "d-0123456789"
	testU1    = "0123456789-11111111-1111-1111-1111-111111111111"
	testU2    = "0123456789-22222222-2222-2222-2222-222222222222"
	testG1    = "0123456789-aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa"
	testG2    = "0123456789-bbbbbbbb-bbbb-bbbb-bbbb-bbbbbbbbbbbb"
	testG3    = "0123456789-cccccccc-cccc-cccc-cccc-cccccccccccc"
)

// testDirectory: u1 in g1, g2, g3; u2 in no group.
func testDirectory() *directory {
	d := &directory{storeID: testStore,
		groups: []dirGroup{{testG1, "g1"}, {testG2, "g2"}, {testG3, "g3"}},
		users:  []dirUser{{id: testU1, name: "alice", groups: []int32{0, 1, 2}}, {id: testU2, name: "bob"}},
	}
	d.index()
	return d
}

func TestIDsFileRoundTrip(t *testing.T) {
	d := testDirectory()
	var buf bytes.Buffer
	if err := writeIDs(&buf, d); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(buf.String(), "\n"); n != 6 {
		t.Errorf("%d lines, want 6:\n%s", n, buf.String())
	}
	got, err := parseIDs(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if got.storeID != testStore || len(got.users) != 2 || len(got.groups) != 3 || got.membership != 3 ||
		len(got.memberOf) != 1 || got.memberOf[0] != 0 || fmt.Sprint(got.users[0].groups) != "[0 1 2]" || got.users[1].name != "bob" {
		t.Errorf("round trip: %+v", got)
	}
	if s := got.String(); s != "identity store d-0123456789: 2 users (1 in a group), 3 groups, 3 memberships" {
		t.Errorf("String() = %q", s)
	}

	// saveIDs replaces the file whole and leaves no temporary file behind.
	dir := t.TempDir()
	file := filepath.Join(dir, "ids.jsonl")
	os.WriteFile(file, []byte("old"), 0o600)
	if err := saveIDs(file, d); err != nil {
		t.Fatal(err)
	}
	if back, err := readIDs(file); err != nil || len(back.users) != 2 {
		t.Errorf("readIDs: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the folder, want 1", len(entries))
	}
}

func TestParseIDsErrors(t *testing.T) {
	store := `{"kind":"store","id":"d-0123456789"}` + "\n"
	group := `{"kind":"group","id":"` + testG1 + `","name":"g1"}` + "\n"
	for name, in := range map[string]string{
		"empty":            "",
		"no store":         group,
		"two stores":       store + store,
		"bad store id":     `{"kind":"store","id":"store-1"}`,
		"not JSON":         store + "{",
		"unknown field":    store + `{"kind":"user","id":"u","name":"n","email":"x"}`,
		"unknown kind":     store + `{"kind":"role","id":"r"}`,
		"no id":            store + `{"kind":"user","name":"n"}`,
		"user no name":     store + `{"kind":"user","id":"u"}`,
		"duplicate group":  store + group + group,
		"duplicate user":   store + `{"kind":"user","id":"u","name":"n"}` + "\n" + `{"kind":"user","id":"u","name":"m"}`,
		"unknown group":    store + `{"kind":"user","id":"u","name":"n","groups":["` + testG2 + `"]}`,
		"group twice":      store + group + `{"kind":"user","id":"u","name":"n","groups":["` + testG1 + `","` + testG1 + `"]}`,
		"group with group": store + `{"kind":"group","id":"g","groups":["x"]}`,
	} {
		if _, err := parseIDs(strings.NewReader(in)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
	// Blank lines are fine; errors name the line.
	_, err := parseIDs(strings.NewReader(store + "\n" + `{"kind":"user","id":"u"}`))
	if err == nil || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("error %v, want one about line 3", err)
	}
}

func TestPlanMemberships(t *testing.T) {
	p := planMemberships(100, 10, 503, 7)
	if len(p) != 503 {
		t.Fatalf("%d pairs, want 503", len(p))
	}
	per := map[int32]map[int32]bool{}
	for _, x := range p {
		if x.user < 0 || x.user >= 100 || x.group < 0 || x.group >= 10 {
			t.Fatalf("pair out of range: %+v", x)
		}
		if per[x.user] == nil {
			per[x.user] = map[int32]bool{}
		}
		if per[x.user][x.group] {
			t.Fatalf("user %d twice in group %d", x.user, x.group)
		}
		per[x.user][x.group] = true
	}
	for u := range int32(100) {
		want := 5
		if u < 3 {
			want = 6
		}
		if len(per[u]) != want {
			t.Errorf("user %d in %d groups, want %d", u, len(per[u]), want)
		}
	}
	if fmt.Sprint(planMemberships(100, 10, 503, 7)) != fmt.Sprint(p) {
		t.Error("the same seed made other pairs")
	}
	if fmt.Sprint(planMemberships(100, 10, 503, 8)) == fmt.Sprint(p) {
		t.Error("another seed made the same pairs")
	}
	// Every pair: each user in every group.
	if all := planMemberships(3, 4, 12, 1); len(all) != 12 {
		t.Errorf("all pairs: %d", len(all))
	}
	if planMemberships(0, 4, 12, 1) != nil || planMemberships(3, 4, 0, 1) != nil {
		t.Error("pairs from nothing")
	}
}

func TestSeededDirectory(t *testing.T) {
	// Group 1 and user 0 failed; of the pairs, the ones with them are left
	// out, as is one that was not made.
	pairs := []pair{{0, 0}, {1, 0}, {1, 1}, {1, 2}, {2, 2}}
	made := []bool{true, true, true, true, false}
	d := seededDirectory(testStore, "load", []string{"", testU1, testU2}, []string{testG1, "", testG3}, pairs, made)
	if len(d.users) != 2 || len(d.groups) != 2 || d.membership != 2 {
		t.Fatalf("%s", d)
	}
	u := d.users[0]
	if u.id != testU1 || u.name != "load-user-0000002" || len(u.groups) != 2 || d.groups[u.groups[0]].id != testG1 || d.groups[u.groups[1]].id != testG3 {
		t.Errorf("user %+v, groups %+v", u, d.groups)
	}
	if d.groups[1].name != "load-group-000003" {
		t.Errorf("group name %q", d.groups[1].name)
	}
}

// decode unmarshals a request body into a generic map.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

func TestIdentityStoreRequests(t *testing.T) {
	d := testDirectory()
	g := newGen(d, 3)

	body, want := nextDescribeUser(g)
	m := decode(t, body)
	if m["IdentityStoreId"] != testStore || (m["UserId"] != testU1 && m["UserId"] != testU2) || len(m) != 2 {
		t.Errorf("DescribeUser %s", body)
	}
	if want.userID != m["UserId"] || want.storeID != testStore || (want.userName != "alice" && want.userName != "bob") {
		t.Errorf("DescribeUser want %+v", want)
	}

	body, want = nextGetUserID(g)
	if !strings.Contains(string(body), `"AlternateIdentifier":{"UniqueAttribute":{"AttributePath":"userName","AttributeValue":"`+want.userName+`"}}`) {
		t.Errorf("GetUserId %s", body)
	}

	// Only alice is in groups; she is asked about at most maxAskGroups of hers.
	for range 20 {
		body, want = nextIsMemberInGroups(g)
		m = decode(t, body)
		if m["MemberId"].(map[string]any)["UserId"] != testU1 || len(want.groupIDs) != 3 || len(m["GroupIds"].([]any)) != 3 {
			t.Fatalf("IsMemberInGroups %s", body)
		}
	}
	big := &directory{storeID: testStore, users: []dirUser{{id: testU1, name: "a"}}}
	for i := range 10 {
		big.groups = append(big.groups, dirGroup{id: fmt.Sprintf("g%d", i)})
		big.users[0].groups = append(big.users[0].groups, int32(i))
	}
	big.index()
	_, want = nextIsMemberInGroups(newGen(big, 0))
	if len(want.groupIDs) != maxAskGroups {
		t.Errorf("asked about %d groups, want %d", len(want.groupIDs), maxAskGroups)
	}
	seen := map[string]bool{}
	for _, id := range want.groupIDs {
		if seen[id] {
			t.Errorf("group %s asked twice", id)
		}
		seen[id] = true
	}

	body, want = nextListForMember(g)
	m = decode(t, body)
	if m["MemberId"].(map[string]any)["UserId"] != testU1 || m["MaxResults"] != float64(100) || len(want.groupIDs) != 3 {
		t.Errorf("ListGroupMembershipsForMember %s, want %+v", body, want)
	}

	// Names of new users are unique per worker and call.
	b1, w1 := nextCreateUser(g)
	_, w2 := nextCreateUser(g)
	_, w3 := nextCreateUser(newGen(d, 4))
	if w1.userName == w2.userName || w1.userName == w3.userName || !strings.HasPrefix(w1.userName, "load-new-") {
		t.Errorf("create-user names %q %q %q", w1.userName, w2.userName, w3.userName)
	}
	m = decode(t, b1)
	name, _ := m["Name"].(map[string]any)
	emails, _ := m["Emails"].([]any)
	if m["UserName"] != w1.userName || m["DisplayName"] == "" || name["GivenName"] == "" || name["FamilyName"] == "" ||
		len(emails) != 1 || emails[0].(map[string]any)["Primary"] != true {
		t.Errorf("CreateUser %s", b1)
	}
}

func TestIdentityStoreChecks(t *testing.T) {
	w := &expect{storeID: testStore, userID: testU1, userName: "alice", groupIDs: []string{testG1, testG2}}
	type tc struct {
		body string
		ok   bool
	}
	checks := map[string]struct {
		check func([]byte, *expect) error
		cases []tc
	}{
		"DescribeUser": {checkDescribeUser, []tc{
			{`{"IdentityStoreId":"d-0123456789","UserId":"` + testU1 + `","UserName":"alice","Name":{"GivenName":"A"}}`, true},
			{`{"IdentityStoreId":"d-0123456789","UserId":"` + testU2 + `","UserName":"alice"}`, false},
			{`{"IdentityStoreId":"d-0123456789","UserId":"` + testU1 + `","UserName":"bob"}`, false},
			{`{"IdentityStoreId":"d-9999999999","UserId":"` + testU1 + `","UserName":"alice"}`, false},
			{`{}`, false}, {`<x/>`, false},
		}},
		"GetUserId": {checkGetUserID, []tc{
			{`{"IdentityStoreId":"d-0123456789","UserId":"` + testU1 + `"}`, true},
			{`{"IdentityStoreId":"d-0123456789","UserId":"` + testU2 + `"}`, false},
			{`{"UserId":"` + testU1 + `"}`, false},
		}},
		"IsMemberInGroups": {checkIsMemberInGroups, []tc{
			{`{"Results":[{"GroupId":"` + testG2 + `","MemberId":{"UserId":"` + testU1 + `"},"MembershipExists":true},{"GroupId":"` + testG1 + `","MemberId":{"UserId":"` + testU1 + `"},"MembershipExists":true}]}`, true},
			{`{"Results":[{"GroupId":"` + testG1 + `","MemberId":{"UserId":"` + testU1 + `"},"MembershipExists":true},{"GroupId":"` + testG2 + `","MemberId":{"UserId":"` + testU1 + `"},"MembershipExists":false}]}`, false},
			{`{"Results":[{"GroupId":"` + testG1 + `","MemberId":{"UserId":"` + testU1 + `"},"MembershipExists":true},{"GroupId":"` + testG1 + `","MemberId":{"UserId":"` + testU1 + `"},"MembershipExists":true}]}`, false},
			{`{"Results":[{"GroupId":"` + testG1 + `","MemberId":{"UserId":"` + testU1 + `"},"MembershipExists":true},{"GroupId":"` + testG3 + `","MemberId":{"UserId":"` + testU1 + `"},"MembershipExists":true}]}`, false},
			{`{"Results":[{"GroupId":"` + testG1 + `","MemberId":{"UserId":"` + testU2 + `"},"MembershipExists":true},{"GroupId":"` + testG2 + `","MemberId":{"UserId":"` + testU1 + `"},"MembershipExists":true}]}`, false},
			{`{"Results":[{"GroupId":"` + testG1 + `","MemberId":{"UserId":"` + testU1 + `"},"MembershipExists":true}]}`, false},
			{`{"Results":[]}`, false}, {`{}`, false},
		}},
		"ListGroupMembershipsForMember": {checkListForMember, []tc{
			{`{"GroupMemberships":[{"IdentityStoreId":"d-0123456789","MembershipId":"m1","GroupId":"` + testG1 + `","MemberId":{"UserId":"` + testU1 + `"}},{"GroupId":"` + testG3 + `","MemberId":{"UserId":"` + testU1 + `"}},{"GroupId":"` + testG2 + `","MemberId":{"UserId":"` + testU1 + `"}}]}`, true},
			// More than one page: the known groups may be on the next.
			{`{"GroupMemberships":[{"GroupId":"` + testG3 + `","MemberId":{"UserId":"` + testU1 + `"}}],"NextToken":"t"}`, true},
			{`{"GroupMemberships":[{"GroupId":"` + testG1 + `","MemberId":{"UserId":"` + testU1 + `"}}]}`, false},
			{`{"GroupMemberships":[{"GroupId":"` + testG1 + `","MemberId":{"UserId":"` + testU1 + `"}},{"GroupId":"` + testG2 + `","MemberId":{"UserId":"` + testU2 + `"}}]}`, false},
			{`{"GroupMemberships":[{"GroupId":"` + testG1 + `","MemberId":{"UserId":"` + testU1 + `"}},{"GroupId":"` + testG2 + `"}]}`, false},
			{`{"GroupMemberships":[]}`, false}, {`{}`, false},
		}},
		"CreateUser": {checkCreateUser, []tc{
			{`{"IdentityStoreId":"d-0123456789","UserId":"` + testU2 + `"}`, true},
			{`{"IdentityStoreId":"d-0123456789","UserId":"8c6a1b3e-5f8d-4e2a-9b7c-0d1e2f3a4b5c"}`, true}, // moto's ids: a bare UUID
			{`{"IdentityStoreId":"d-0123456789","UserId":"not-an-id"}`, false},
			{`{"IdentityStoreId":"d-0123456789"}`, false},
			{`{"IdentityStoreId":"d-1","UserId":"` + testU2 + `"}`, false},
		}},
	}
	for name, c := range checks {
		for _, tt := range c.cases {
			err := c.check([]byte(tt.body), w)
			if (err == nil) != tt.ok {
				t.Errorf("%s %s: %v, want ok=%v", name, tt.body, err, tt.ok)
			}
		}
	}
	// An empty list is right for a user in no group.
	if err := checkListForMember([]byte(`{"GroupMemberships":[]}`), &expect{userID: testU2}); err != nil {
		t.Error(err)
	}
	for _, tt := range []struct {
		body, field string
		ok          bool
	}{
		{`{"GroupId":"` + testG1 + `","IdentityStoreId":"d-0123456789"}`, "GroupId", true},
		{`{"MembershipId":"` + testG1 + `"}`, "MembershipId", true},
		{`{"MembershipId":"` + testG1 + `"}`, "GroupId", false},
		{`{"UserId":""}`, "UserId", false},
		{`nope`, "UserId", false},
	} {
		if _, err := checkCreated([]byte(tt.body), tt.field); (err == nil) != tt.ok {
			t.Errorf("checkCreated(%s, %s) = %v", tt.body, tt.field, err)
		}
	}
}

func TestParseListInstances(t *testing.T) {
	id, err := parseListInstances([]byte(`{"Instances":[{"InstanceArn":"arn:aws:sso:::instance/ssoins-1","IdentityStoreId":"d-0123456789"}]}`))
	if err != nil || id != testStore {
		t.Errorf("%q, %v", id, err)
	}
	// moto's store ids have letters beyond f.
	if id, err := parseListInstances([]byte(`{"Instances":[{"IdentityStoreId":"d-wxy9fhb84p"}]}`)); err != nil || id != "d-wxy9fhb84p" {
		t.Errorf("moto's store id: %q, %v", id, err)
	}
	for _, b := range []string{`{"Instances":[]}`, `{"Instances":[{"IdentityStoreId":"x"}]}`, `{"Instances":[{"IdentityStoreId":"d-WXY9FHB84P"}]}`, `nope`} {
		if _, err := parseListInstances([]byte(b)); err == nil {
			t.Errorf("%s parsed", b)
		}
	}
}

func TestParseRSSParts(t *testing.T) {
	anon, file := parseRSSParts([]byte("VmRSS:\t 1000 kB\nRssAnon:\t  300 kB\nRssFile:\t  650 kB\nRssShmem:\t 50 kB\n"))
	if anon != 300*1024 || file != 650*1024 {
		t.Errorf("anon %d, file %d", anon, file)
	}
	if a, f := parseRSSParts([]byte("VmRSS:\t1 kB\n")); a != 0 || f != 0 {
		t.Errorf("old kernel: %d %d", a, f)
	}
}

func TestParsePSS(t *testing.T) {
	rollup := []byte("55d0c0000000-7ffd1e5fe000 ---p 00000000 00:00 0                          [rollup]\nRss:             1361332 kB\nPss:              342562 kB\nPss_Dirty:         62060 kB\nPss_Anon:          62060 kB\n")
	if got := parsePSS(rollup); got != 342562*1024 {
		t.Errorf("parsePSS = %d", got)
	}
	if got := parsePSS([]byte("Rss: 1 kB\n")); got != 0 {
		t.Errorf("no Pss: %d", got)
	}
	if procPSS(os.Getpid()) == 0 {
		t.Log("no /proc/self/smaps_rollup here")
	}
}

func TestIdentityStoreFlags(t *testing.T) {
	ok := [][]string{
		{"--op", "describe-user", "--ids", "/tmp/ids"},
		{"--op", "create-user", "--identity-store-id", testStore, "--access-key", "test", "--secret-key", "test"},
		{"--op", "is-member-in-groups"},
		{"--op", "list-group-memberships-for-member", "--identity-store-id", "01234567-89ab-cdef-0123-456789abcdef"},
	}
	for _, args := range ok {
		if _, err := parseFlags(args, io.Discard); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
	bad := map[string][]string{
		"ids for an org op":  {"--op", "describe-account", "--ids", "/tmp/ids"},
		"store for org op":   {"--identity-store-id", testStore},
		"bad store id":       {"--op", "get-user-id", "--identity-store-id", "store-1"},
		"key without secret": {"--op", "get-user-id", "--access-key", "a"},
		"secret without key": {"--op", "get-user-id", "--secret-key", "a"},
		"key and file":       {"--op", "get-user-id", "--access-key", "a", "--secret-key", "b", "--credentials", "/tmp/c"},
	}
	for name, args := range bad {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%s: %q accepted", name, args)
		}
	}
}

func TestSeedFlags(t *testing.T) {
	o, err := parseSeedFlags([]string{"--users", "100000", "--groups", "10000", "--memberships", "500000", "--ids", "/tmp/ids"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.concurrency != 32 || o.prefix != "load" || o.seed != 1 || o.endpoint != "http://127.0.0.1:8080" {
		t.Errorf("defaults %+v", o)
	}
	bad := map[string][]string{
		"nothing":          {},
		"negative":         {"--users", "-1"},
		"too many users":   {"--users", "2000001"},
		"too many pairs":   {"--users", "2", "--groups", "2", "--memberships", "5"},
		"no groups":        {"--users", "2", "--memberships", "1"},
		"prefix":           {"--users", "1", "--prefix", "Bad Prefix"},
		"store":            {"--users", "1", "--identity-store-id", "x"},
		"concurrency":      {"--users", "1", "--concurrency", "0"},
		"stray":            {"--users", "1", "extra"},
		"half a key":       {"--users", "1", "--access-key", "a"},
		"negative progess": {"--users", "1", "--progress", "-1s"},
	}
	for name, args := range bad {
		if _, err := parseSeedFlags(args, io.Discard); err == nil {
			t.Errorf("%s: %q accepted", name, args)
		}
	}
}

// servesIdentityStore tells whether the in-process server answers the
// identitystore API yet.
func servesIdentityStore(t testing.TB, url string) bool {
	t.Helper()
	tgt, err := newTarget(context.Background(), url, nil, 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.close()
	store, err := listInstances(context.Background(), tgt, benchCreds())
	if err != nil {
		t.Fatal(err)
	}
	_, cerr := newRawCaller(tgt, benchCreds()).post(context.Background(), idsSigningName, idsTargetPrefix+"ListGroups",
		[]byte(`{"IdentityStoreId":"`+store+`"}`))
	return cerr == nil
}

func keyEnv(k string) string {
	return map[string]string{"AWS_ACCESS_KEY_ID": benchKey, "AWS_SECRET_ACCESS_KEY": benchSecret}[k]
}

// TestSeedAndDirectoryLoad seeds a small directory through the API of a real
// server, re-runs the seeding (everything is then already there), and runs
// each identitystore op on it with and without the ids file.
func TestSeedAndDirectoryLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	s := openServer(t)
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	if !servesIdentityStore(t, hs.URL) {
		t.Skip("the server does not serve the identitystore API yet")
	}
	ids := filepath.Join(t.TempDir(), "ids.jsonl")
	seedArgs := []string{"seed", "--endpoint", hs.URL, "--users", "40", "--groups", "8", "--memberships", "120", "--concurrency", "4", "--ids", ids, "--json",
		"--measure-server", fmt.Sprint(os.Getpid())}
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), seedArgs, &stdout, &stderr, keyEnv); code != 0 {
		t.Fatalf("seed: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	var res seedResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Phases) != 3 || res.Phases[0].Created != 8 || res.Phases[1].Created != 40 || res.Phases[2].Created != 120 || res.Errors != 0 || res.Server == nil {
		t.Errorf("seed: %s", stdout.String())
	}
	d, err := readIDs(ids)
	if err != nil {
		t.Fatal(err)
	}
	if d.storeID != res.IdentityStoreID || len(d.users) != 40 || len(d.groups) != 8 || d.membership != 120 || len(d.memberOf) != 40 {
		t.Errorf("ids file: %s", d)
	}

	// Again: all there already, said so, the same ids.
	stdout.Reset()
	seedArgs[len(seedArgs)-4] = ids + ".again"
	if code := run(context.Background(), seedArgs[:len(seedArgs)-2], &stdout, &stderr, keyEnv); code != 0 {
		t.Fatalf("re-seed: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	res = seedResult{}
	json.Unmarshal(stdout.Bytes(), &res)
	if res.Phases[0].Existing != 8 || res.Phases[1].Existing != 40 || res.Phases[2].Existing != 120 || res.Phases[1].Created != 0 || res.Errors != 0 ||
		!strings.Contains(res.ExistingNote, "ConflictException") {
		t.Errorf("re-seed: %s", stdout.String())
	}
	again, err := readIDs(ids + ".again")
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	writeIDs(&a, d)
	writeIDs(&b, again)
	if a.String() != b.String() {
		t.Error("the re-run found other ids")
	}

	for _, op := range []string{"describe-user", "get-user-id", "is-member-in-groups", "list-group-memberships-for-member", "create-user"} {
		for _, args := range [][]string{
			{"--ids", ids},
			nil, // discovered with ListUsers and ListGroupMembershipsForMember
			{"--identity-store-id", d.storeID, "--access-key", benchKey, "--secret-key", benchSecret},
		} {
			stdout.Reset()
			stderr.Reset()
			args = append([]string{"--endpoint", hs.URL, "--op", op, "--concurrency", "4", "--duration", "300ms", "--warmup", "100ms", "--json"}, args...)
			if code := run(context.Background(), args, &stdout, &stderr, keyEnv); code != 0 {
				t.Fatalf("%q: exit %d\n%s%s", args, code, stdout.String(), stderr.String())
			}
			var lr loadResult
			json.Unmarshal(stdout.Bytes(), &lr)
			if lr.Errors != 0 || lr.Requests == 0 || !strings.Contains(lr.Directory, d.storeID) {
				t.Errorf("%q: %s", args, stdout.String())
			}
		}
	}

	// An ids file of another identity store is refused.
	stdout.Reset()
	stderr.Reset()
	code := run(context.Background(), []string{"--endpoint", hs.URL, "--op", "describe-user", "--ids", ids, "--identity-store-id", "d-9999999999"}, &stdout, &stderr, keyEnv)
	if code == 0 || !strings.Contains(stderr.String(), "d-9999999999") {
		t.Errorf("another store: exit %d, %s", code, stderr.String())
	}
}

// TestSeedErrorsCounted: failures are counted by kind, the failed users'
// memberships are skipped, and the exit status says so.
func TestSeedErrorsCounted(t *testing.T) {
	s := openServer(t)
	h := s.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("X-Amz-Target") == idsTargetPrefix+"CreateUser" && bytes.Contains(body, []byte(`"load-user-0000003"`)) {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"__type":"InternalServerException","message":"boom"}`))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.ServeHTTP(w, r)
	}))
	defer hs.Close()
	if !servesIdentityStore(t, hs.URL) {
		t.Skip("the server does not serve the identitystore API yet")
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"seed", "--endpoint", hs.URL, "--users", "5", "--groups", "2", "--memberships", "10", "--concurrency", "2"}, &stdout, &stderr, keyEnv)
	out := stdout.String()
	if code != 1 || !strings.Contains(out, "CreateUser: HTTP 500 InternalServerException") || !strings.Contains(out, "(2 skipped: their user or group failed)") ||
		!strings.Contains(out, "4 created, 0 already there, 1 errors") {
		t.Errorf("exit %d\n%s%s", code, out, stderr.String())
	}
}

// BenchmarkServerDirectory is BenchmarkServer for the identitystore reads,
// on a directory of 2,000 users, 200 groups and 10,000 memberships seeded
// through the API. Each op's requests (64 different ones, random users) are
// signed once and replayed. create-user is left out: a replayed CreateUser
// is a ConflictException.
//
//	go test ./cmd/atrium-load -run '^$' -bench BenchmarkServerDirectory/describe-user -cpuprofile /tmp/cpu.out
func BenchmarkServerDirectory(b *testing.B) {
	s := openServer(b)
	h := s.Handler()
	hs := httptest.NewServer(h)
	defer hs.Close()
	if !servesIdentityStore(b, hs.URL) {
		b.Skip("the server does not serve the identitystore API yet")
	}
	d := seedForBench(b, hs.URL)
	u, _, err := checkEndpoint(context.Background(), "http://127.0.0.1:8080", nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"describe-user", "get-user-id", "is-member-in-groups", "list-group-memberships-for-member"} {
		b.Run(name, func(b *testing.B) {
			c := newDirCaller(&target{url: u}, operations[name], benchCreds(), d, 0)
			type signed struct {
				header http.Header
				body   []byte
			}
			reqs := make([]signed, 64)
			for i := range reqs {
				req, err := c.request(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				reqs[i] = signed{req.Header, c.body}
			}
			b.ReportAllocs()
			var n atomic.Int64
			b.RunParallel(func(pb *testing.PB) {
				i := int(n.Add(1))
				for pb.Next() {
					r := reqs[i%len(reqs)]
					i++
					req := httptest.NewRequest(http.MethodPost, c.url, bytes.NewReader(r.body))
					req.Header = r.header.Clone()
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK {
						b.Fatalf("%d %s", w.Code, w.Body)
					}
				}
			})
		})
	}
}

func seedForBench(b *testing.B, url string) *directory {
	b.Helper()
	ids := filepath.Join(b.TempDir(), "ids.jsonl")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"seed", "--endpoint", url, "--users", "2000", "--groups", "200", "--memberships", "10000",
		"--concurrency", "8", "--ids", ids, "--progress", "0"}, &stdout, &stderr, keyEnv)
	if code != 0 {
		b.Fatalf("seed: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	d, err := readIDs(ids)
	if err != nil {
		b.Fatal(err)
	}
	return d
}
