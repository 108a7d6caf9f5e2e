package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync/atomic"
	"time"
)

// dirNeed is what an identitystore op needs from the directory.
type dirNeed int

const (
	needStore   dirNeed = iota // only the identity store id
	needUsers                  // existing users (ids and names)
	needMembers                // users in at least one group, and those groups
)

// maxAskGroups is how many of a user's groups is-member-in-groups asks about.
const maxAskGroups = 4

// expect is what the answer to one identitystore request must hold.
type expect struct {
	storeID  string
	userID   string
	userName string
	groupIDs []string
}

// gen makes one worker's identitystore requests: it picks users and groups
// from the directory at random and numbers the users it creates.
type gen struct {
	dir    *directory
	rng    *rand.Rand
	prefix string // unique to this maker: create-user names
	seq    int
}

// runNonce makes create-user names unique to a process; makers add their number.
var runNonce = strconv.FormatInt(time.Now().UnixNano(), 36)

var genSeq atomic.Uint64

// newGen is a request maker for one worker. Each has its own random
// source and its own create-user prefix: the run's nonce and the maker's
// number within the process.
func newGen(d *directory, worker int) *gen {
	n := genSeq.Add(1)
	return &gen{
		dir:    d,
		rng:    rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), n<<16|uint64(worker)&0xffff)),
		prefix: fmt.Sprintf("load-new-%s-%d-", runNonce, n),
	}
}

func (g *gen) user() *dirUser { return &g.dir.users[g.rng.IntN(len(g.dir.users))] }

func (g *gen) member() *dirUser {
	return &g.dir.users[g.dir.memberOf[g.rng.IntN(len(g.dir.memberOf))]]
}

// groupIDs is up to n of u's groups, a random choice when it has more.
func (g *gen) groupIDs(u *dirUser, n int) []string {
	idx := u.groups
	if len(idx) > n {
		idx = make([]int32, n)
		for i, p := range g.rng.Perm(len(u.groups))[:n] {
			idx[i] = u.groups[p]
		}
	}
	ids := make([]string, len(idx))
	for i, gi := range idx {
		ids[i] = g.dir.groups[gi].id
	}
	return ids
}

// The request shapes, as the AWS SDKs send them.
type (
	memberID struct {
		UserId string
	}
	uniqueAttribute struct {
		AttributePath  string
		AttributeValue string
	}
	alternateIdentifier struct {
		UniqueAttribute uniqueAttribute
	}
	personName struct {
		GivenName  string
		FamilyName string
	}
	email struct {
		Value   string
		Type    string
		Primary bool
	}
	describeUserIn struct {
		IdentityStoreId string
		UserId          string
	}
	getIDIn struct {
		IdentityStoreId     string
		AlternateIdentifier alternateIdentifier
	}
	isMemberInGroupsIn struct {
		IdentityStoreId string
		MemberId        memberID
		GroupIds        []string
	}
	listForMemberIn struct {
		IdentityStoreId string
		MemberId        memberID
		MaxResults      int `json:",omitempty"`
	}
	createUserIn struct {
		IdentityStoreId string
		UserName        string
		DisplayName     string
		Name            personName
		Emails          []email
	}
	createGroupIn struct {
		IdentityStoreId string
		DisplayName     string
	}
	createMembershipIn struct {
		IdentityStoreId string
		GroupId         string
		MemberId        memberID
	}
)

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain structs of strings are marshalled
	}
	return b
}

func idsOp(name string, needs dirNeed, next func(*gen) ([]byte, expect), check func([]byte, *expect) error) *operation {
	return &operation{signingName: idsSigningName, contentType: jsonContentType, target: idsTargetPrefix + name,
		next: next, checkWant: check, needs: needs}
}

func init() {
	operations["describe-user"] = idsOp("DescribeUser", needUsers, nextDescribeUser, checkDescribeUser)
	operations["get-user-id"] = idsOp("GetUserId", needUsers, nextGetUserID, checkGetUserID)
	operations["is-member-in-groups"] = idsOp("IsMemberInGroups", needMembers, nextIsMemberInGroups, checkIsMemberInGroups)
	operations["list-group-memberships-for-member"] = idsOp("ListGroupMembershipsForMember", needMembers, nextListForMember, checkListForMember)
	operations["create-user"] = idsOp("CreateUser", needStore, nextCreateUser, checkCreateUser)
}

// --- request makers

func nextDescribeUser(g *gen) ([]byte, expect) {
	u := g.user()
	return mustJSON(describeUserIn{IdentityStoreId: g.dir.storeID, UserId: u.id}),
		expect{storeID: g.dir.storeID, userID: u.id, userName: u.name}
}

func getUserIDBody(storeID, userName string) []byte {
	return mustJSON(getIDIn{IdentityStoreId: storeID, AlternateIdentifier: alternateIdentifier{
		UniqueAttribute: uniqueAttribute{AttributePath: "userName", AttributeValue: userName}}})
}

func nextGetUserID(g *gen) ([]byte, expect) {
	u := g.user()
	return getUserIDBody(g.dir.storeID, u.name), expect{storeID: g.dir.storeID, userID: u.id, userName: u.name}
}

func nextIsMemberInGroups(g *gen) ([]byte, expect) {
	u := g.member()
	ids := g.groupIDs(u, maxAskGroups)
	return mustJSON(isMemberInGroupsIn{IdentityStoreId: g.dir.storeID, MemberId: memberID{u.id}, GroupIds: ids}),
		expect{storeID: g.dir.storeID, userID: u.id, groupIDs: ids}
}

func nextListForMember(g *gen) ([]byte, expect) {
	u := g.member()
	return mustJSON(listForMemberIn{IdentityStoreId: g.dir.storeID, MemberId: memberID{u.id}, MaxResults: pageSize}),
		expect{storeID: g.dir.storeID, userID: u.id, groupIDs: g.groupIDs(u, len(u.groups))}
}

// createUserBody is a complete user as Identity Center requires one: user
// name, display name, given and family name, and a primary work email.
func createUserBody(storeID, userName, given, family string) []byte {
	return mustJSON(createUserIn{IdentityStoreId: storeID, UserName: userName, DisplayName: given + " " + family,
		Name:   personName{GivenName: given, FamilyName: family},
		Emails: []email{{Value: userName + "@example.com", Type: "work", Primary: true}}})
}

func nextCreateUser(g *gen) ([]byte, expect) {
	g.seq++
	name := g.prefix + strconv.Itoa(g.seq)
	return createUserBody(g.dir.storeID, name, "Load", "User "+strconv.Itoa(g.seq)), expect{storeID: g.dir.storeID, userName: name}
}

// --- answer checks

func unmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return errors.New("body is not JSON")
	}
	return nil
}

func checkDescribeUser(b []byte, want *expect) error {
	var out struct{ IdentityStoreId, UserId, UserName string }
	if err := unmarshal(b, &out); err != nil {
		return err
	}
	if out.UserId != want.userID {
		return fmt.Errorf("UserId %q, want %q", out.UserId, want.userID)
	}
	if out.UserName != want.userName {
		return fmt.Errorf("UserName %q, want %q", out.UserName, want.userName)
	}
	if out.IdentityStoreId != want.storeID {
		return fmt.Errorf("IdentityStoreId %q, want %q", out.IdentityStoreId, want.storeID)
	}
	return nil
}

func checkGetUserID(b []byte, want *expect) error {
	var out struct{ IdentityStoreId, UserId string }
	if err := unmarshal(b, &out); err != nil {
		return err
	}
	if out.UserId != want.userID {
		return fmt.Errorf("UserId %q for %q, want %q", out.UserId, want.userName, want.userID)
	}
	if out.IdentityStoreId != want.storeID {
		return fmt.Errorf("IdentityStoreId %q, want %q", out.IdentityStoreId, want.storeID)
	}
	return nil
}

// checkIsMemberInGroups wants one result per group asked, each saying the
// user is a member.
func checkIsMemberInGroups(b []byte, want *expect) error {
	var out struct {
		Results *[]struct {
			GroupId          string
			MemberId         *memberID
			MembershipExists bool
		}
	}
	if err := unmarshal(b, &out); err != nil {
		return err
	}
	if out.Results == nil {
		return errors.New("no Results in the body")
	}
	if len(*out.Results) != len(want.groupIDs) {
		return fmt.Errorf("%d Results for %d groups", len(*out.Results), len(want.groupIDs))
	}
	asked := make(map[string]bool, len(want.groupIDs))
	for _, g := range want.groupIDs {
		asked[g] = true
	}
	for _, r := range *out.Results {
		switch {
		case !asked[r.GroupId]:
			return fmt.Errorf("a result for group %q, not asked or twice", r.GroupId)
		case r.MemberId == nil || r.MemberId.UserId != want.userID:
			return fmt.Errorf("a result for group %s without MemberId.UserId %s", r.GroupId, want.userID)
		case !r.MembershipExists:
			return fmt.Errorf("MembershipExists false for %s in %s", want.userID, r.GroupId)
		}
		delete(asked, r.GroupId)
	}
	return nil
}

// checkListForMember wants every membership to be the user's and, on the
// last page, every group the user is known to be in.
func checkListForMember(b []byte, want *expect) error {
	groups, next, err := parseMemberships(b, want.userID)
	if err != nil {
		return err
	}
	if next != "" {
		return nil // more than a page: the known groups may be on the next one
	}
	got := make(map[string]bool, len(groups))
	for _, g := range groups {
		got[g] = true
	}
	for _, g := range want.groupIDs {
		if !got[g] {
			return fmt.Errorf("%d memberships of %s, without its group %s", len(groups), want.userID, g)
		}
	}
	return nil
}

func checkCreateUser(b []byte, want *expect) error {
	var out struct{ IdentityStoreId, UserId string }
	if err := unmarshal(b, &out); err != nil {
		return err
	}
	if !resourceIDPattern.MatchString(out.UserId) {
		return fmt.Errorf("UserId %q for %q is not a resource id", out.UserId, want.userName)
	}
	if out.IdentityStoreId != want.storeID {
		return fmt.Errorf("IdentityStoreId %q, want %q", out.IdentityStoreId, want.storeID)
	}
	return nil
}

// checkCreated reads the new resource's id (UserId, GroupId or
// MembershipId) from a Create answer.
func checkCreated(b []byte, field string) (string, error) {
	var out struct{ UserId, GroupId, MembershipId string }
	if err := unmarshal(b, &out); err != nil {
		return "", err
	}
	var id string
	switch field {
	case "UserId":
		id = out.UserId
	case "GroupId":
		id = out.GroupId
	case "MembershipId":
		id = out.MembershipId
	}
	if !resourceIDPattern.MatchString(id) {
		return "", fmt.Errorf("%s %q is not a resource id", field, id)
	}
	return id, nil
}
