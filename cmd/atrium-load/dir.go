package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// The identitystore API (awsJson1.1) and the one sso-admin call that finds
// the identity store.
const (
	idsTargetPrefix = "AWSIdentityStore."
	ssoTargetPrefix = "SWBExternalService."
	idsSigningName  = "identitystore"
	ssoSigningName  = "sso"
	jsonContentType = "application/x-amz-json-1.1"
)

// identityStoreIDPattern and resourceIDPattern are the API model's patterns
// for IdentityStoreId and ResourceId (a user, group or membership id), but
// for the store id's ten characters: moto makes them of lower-case letters
// and digits (d-wxy9fhb84p), and the load is run against moto too.
var (
	identityStoreIDPattern = regexp.MustCompile(`^(d-[0-9a-z]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
	resourceIDPattern      = regexp.MustCompile(`^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$`)
)

// dirUser is one user the load knows about, with the groups it is in
// (indices into directory.groups).
type dirUser struct {
	id, name string
	groups   []int32
}

type dirGroup struct {
	id, name string
}

// directory is the part of an identity store the load ops pick from: users,
// groups and who is in which. It is read-only while the load runs.
type directory struct {
	storeID    string
	users      []dirUser
	groups     []dirGroup
	memberOf   []int32 // indices of the users in at least one group
	membership int     // user→group pairs in total
}

func (d *directory) index() {
	d.memberOf, d.membership = d.memberOf[:0], 0
	for i, u := range d.users {
		if len(u.groups) > 0 {
			d.memberOf = append(d.memberOf, int32(i))
			d.membership += len(u.groups)
		}
	}
}

func (d *directory) String() string {
	if len(d.users)+len(d.groups) == 0 {
		return "identity store " + d.storeID
	}
	return fmt.Sprintf("identity store %s: %d users (%d in a group), %d groups, %d memberships",
		d.storeID, len(d.users), len(d.memberOf), len(d.groups), d.membership)
}

// idLine is one line of an ids file (JSON lines): the identity store first,
// then groups, then users with the ids of the groups they are in.
//
//	{"kind":"store","id":"d-1234567890"}
//	{"kind":"group","id":"…","name":"load-group-000001"}
//	{"kind":"user","id":"…","name":"load-user-000001","groups":["…","…"]}
type idLine struct {
	Kind   string   `json:"kind"`
	ID     string   `json:"id"`
	Name   string   `json:"name,omitempty"`
	Groups []string `json:"groups,omitempty"`
}

const maxIDLine = 1 << 20

// parseIDs reads an ids file. It is strict: an unknown kind, a missing id, a
// second identity store, a duplicate or a user in a group the file has not
// listed is an error, with its line number.
func parseIDs(r io.Reader) (*directory, error) {
	d := &directory{}
	groupIndex := map[string]int32{}
	userIDs := map[string]bool{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxIDLine)
	for n := 1; sc.Scan(); n++ {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var l idLine
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		if l.ID == "" {
			return nil, fmt.Errorf("line %d: no id", n)
		}
		switch l.Kind {
		case "store":
			if d.storeID != "" {
				return nil, fmt.Errorf("line %d: a second identity store", n)
			}
			if !identityStoreIDPattern.MatchString(l.ID) {
				return nil, fmt.Errorf("line %d: %q is not an identity store id", n, l.ID)
			}
			d.storeID = l.ID
		case "group":
			if _, dup := groupIndex[l.ID]; dup {
				return nil, fmt.Errorf("line %d: group %s listed twice", n, l.ID)
			}
			if len(l.Groups) > 0 {
				return nil, fmt.Errorf("line %d: a group with groups", n)
			}
			groupIndex[l.ID] = int32(len(d.groups))
			d.groups = append(d.groups, dirGroup{id: l.ID, name: l.Name})
		case "user":
			if userIDs[l.ID] {
				return nil, fmt.Errorf("line %d: user %s listed twice", n, l.ID)
			}
			if l.Name == "" {
				return nil, fmt.Errorf("line %d: user %s has no name", n, l.ID)
			}
			userIDs[l.ID] = true
			u := dirUser{id: l.ID, name: l.Name}
			if len(l.Groups) > 0 {
				u.groups = make([]int32, 0, len(l.Groups))
				seen := map[int32]bool{}
				for _, g := range l.Groups {
					gi, ok := groupIndex[g]
					if !ok {
						return nil, fmt.Errorf("line %d: user %s is in group %s, not listed before it", n, l.ID, g)
					}
					if seen[gi] {
						return nil, fmt.Errorf("line %d: user %s is in group %s twice", n, l.ID, g)
					}
					seen[gi] = true
					u.groups = append(u.groups, gi)
				}
			}
			d.users = append(d.users, u)
		default:
			return nil, fmt.Errorf("line %d: unknown kind %q", n, l.Kind)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if d.storeID == "" {
		return nil, errors.New("no identity store line")
	}
	d.index()
	return d, nil
}

func readIDs(file string) (*directory, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--ids: %w", err)
	}
	defer f.Close()
	d, err := parseIDs(f)
	if err != nil {
		return nil, fmt.Errorf("--ids %s: %w", file, err)
	}
	return d, nil
}

// writeIDs writes d in the format parseIDs reads.
func writeIDs(w io.Writer, d *directory) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	if err := enc.Encode(idLine{Kind: "store", ID: d.storeID}); err != nil {
		return err
	}
	for _, g := range d.groups {
		if err := enc.Encode(idLine{Kind: "group", ID: g.id, Name: g.name}); err != nil {
			return err
		}
	}
	var gs []string
	for _, u := range d.users {
		gs = gs[:0]
		for _, g := range u.groups {
			gs = append(gs, d.groups[g].id)
		}
		if err := enc.Encode(idLine{Kind: "user", ID: u.id, Name: u.name, Groups: gs}); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// saveIDs writes d to file through a temporary file and a rename, so a
// crash never leaves half a file under the name.
func saveIDs(file string, d *directory) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".atrium-load-ids-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := writeIDs(tmp, d); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// --- discovery, when there is no ids file

const (
	discoverUsers       = 1000 // users read with ListUsers
	discoverMemberships = 300  // of them, how many get their groups listed
	pageSize            = 100  // MaxResults of the identitystore List calls (their maximum)
)

// listInstances finds the identity store through sso-admin ListInstances.
func listInstances(ctx context.Context, tgt *target, creds aws.Credentials) (string, error) {
	c := newRawCaller(tgt, creds)
	b, cerr := c.post(ctx, ssoSigningName, ssoTargetPrefix+"ListInstances", []byte(`{}`))
	if cerr != nil {
		return "", fmt.Errorf("sso-admin ListInstances (to find the identity store; or pass --identity-store-id): %v", cerr)
	}
	return parseListInstances(b)
}

func parseListInstances(b []byte) (string, error) {
	var out struct {
		Instances []struct{ IdentityStoreId string }
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", errors.New("ListInstances: body is not JSON")
	}
	if len(out.Instances) == 0 {
		return "", errors.New("ListInstances: no Identity Center instance")
	}
	id := out.Instances[0].IdentityStoreId
	if !identityStoreIDPattern.MatchString(id) {
		return "", fmt.Errorf("ListInstances: IdentityStoreId %q", id)
	}
	return id, nil
}

// discover reads up to discoverUsers users with ListUsers and, when
// withGroups, the groups of the first discoverMemberships of them with
// ListGroupMembershipsForMember.
func discover(ctx context.Context, tgt *target, creds aws.Credentials, storeID string, withGroups bool) (*directory, error) {
	d := &directory{storeID: storeID}
	c := newRawCaller(tgt, creds)
	token := ""
	for len(d.users) < discoverUsers {
		in := map[string]any{"IdentityStoreId": storeID, "MaxResults": pageSize}
		if token != "" {
			in["NextToken"] = token
		}
		body, _ := json.Marshal(in)
		b, cerr := c.post(ctx, idsSigningName, idsTargetPrefix+"ListUsers", body)
		if cerr != nil {
			return nil, fmt.Errorf("ListUsers: %v", cerr)
		}
		var out struct {
			Users     []struct{ UserId, UserName string }
			NextToken string
		}
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, errors.New("ListUsers: body is not JSON")
		}
		for _, u := range out.Users {
			if u.UserId == "" || u.UserName == "" {
				return nil, errors.New("ListUsers: a user without UserId or UserName")
			}
			d.users = append(d.users, dirUser{id: u.UserId, name: u.UserName})
		}
		if token = out.NextToken; token == "" {
			break
		}
	}
	if withGroups {
		groupIndex := map[string]int32{}
		for i := range d.users[:min(len(d.users), discoverMemberships)] {
			u := &d.users[i]
			token = ""
			for {
				in := map[string]any{"IdentityStoreId": storeID, "MemberId": map[string]string{"UserId": u.id}, "MaxResults": pageSize}
				if token != "" {
					in["NextToken"] = token
				}
				body, _ := json.Marshal(in)
				b, cerr := c.post(ctx, idsSigningName, idsTargetPrefix+"ListGroupMembershipsForMember", body)
				if cerr != nil {
					return nil, fmt.Errorf("ListGroupMembershipsForMember: %v", cerr)
				}
				ms, next, err := parseMemberships(b, u.id)
				if err != nil {
					return nil, fmt.Errorf("ListGroupMembershipsForMember: %v", err)
				}
				for _, g := range ms {
					gi, ok := groupIndex[g]
					if !ok {
						gi = int32(len(d.groups))
						groupIndex[g] = gi
						d.groups = append(d.groups, dirGroup{id: g})
					}
					u.groups = append(u.groups, gi)
				}
				if token = next; token == "" {
					break
				}
			}
		}
	}
	d.index()
	return d, nil
}

// parseMemberships reads a ListGroupMembershipsForMember answer: the group
// ids, each membership checked to be the member's.
func parseMemberships(b []byte, userID string) (groups []string, next string, err error) {
	var out struct {
		GroupMemberships *[]struct {
			GroupId  string
			MemberId *struct{ UserId string }
		}
		NextToken string
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, "", errors.New("body is not JSON")
	}
	if out.GroupMemberships == nil {
		return nil, "", errors.New("no GroupMemberships in the body")
	}
	for _, m := range *out.GroupMemberships {
		if m.MemberId == nil || m.MemberId.UserId != userID {
			return nil, "", fmt.Errorf("a membership of another member than %s", userID)
		}
		if m.GroupId == "" {
			return nil, "", errors.New("a membership without GroupId")
		}
		groups = append(groups, m.GroupId)
	}
	return groups, out.NextToken, nil
}
