package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

// instanceARNPattern is the API model's InstanceArn pattern;
// instanceStoreIDPattern is its IdentityStoreId pattern widened to any
// lower-case letters after d-, as moto makes them.
var (
	instanceARNPattern     = regexp.MustCompile(`^arn:(aws|aws-[a-z]{1,5}(-[a-z]{1,5}){0,2}):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$`)
	instanceStoreIDPattern = regexp.MustCompile(`^(d-[0-9a-z]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`)
)

// accessFixture is what atrium-load seed-access made and the sso-admin ops
// pick from: the instance, member accounts, permission sets, and the
// principals with what ListAccountAssignmentsForPrincipal must answer for
// each user.
type accessFixture struct {
	instanceARN string
	storeID     string
	accounts    []string
	permSets    []fixturePermSet
	groups      []dirGroup
	users       []fixtureUser
	heavy       []int32 // indices of the users the list op asks about
}

type fixturePermSet struct {
	arn, name string
	wide      bool // assigned in every account: the one measure-provision changes
}

type fixtureUser struct {
	id, name    string
	groups      []int32 // indices into groups
	assignments int     // of the user and its groups together
}

// accessLine is one line of an access ids file (JSON lines): the instance
// first, then accounts, permission sets, groups, and users with their groups.
//
//	{"kind":"instance","id":"arn:aws:sso:::instance/ssoins-…","store":"d-1234567890"}
//	{"kind":"account","id":"123456789012"}
//	{"kind":"permission-set","id":"arn:aws:sso:::permissionSet/…","name":"load-ps-wide","wide":true}
//	{"kind":"group","id":"…","name":"load-hgroup-01"}
//	{"kind":"user","id":"…","name":"load-heavy-001","groups":["…"],"assignments":1000,"heavy":true}
type accessLine struct {
	Kind        string   `json:"kind"`
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	Store       string   `json:"store,omitempty"`
	Wide        bool     `json:"wide,omitempty"`
	Groups      []string `json:"groups,omitempty"`
	Assignments int      `json:"assignments,omitempty"`
	Heavy       bool     `json:"heavy,omitempty"`
}

// parseAccessIDs reads an access ids file, strictly: a line out of place, a
// duplicate, a bad id or a user in a group not listed before it is an error
// with its line number.
func parseAccessIDs(r io.Reader) (*accessFixture, error) {
	f := &accessFixture{}
	seen := map[string]bool{}
	groupIndex := map[string]int32{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxIDLine)
	for n := 1; sc.Scan(); n++ {
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var l accessLine
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, fmt.Errorf("line %d: %v", n, err)
		}
		if l.ID == "" {
			return nil, fmt.Errorf("line %d: no id", n)
		}
		if l.Kind != "instance" && f.instanceARN == "" {
			return nil, fmt.Errorf("line %d: a %s before the instance line", n, l.Kind)
		}
		if seen[l.Kind+" "+l.ID] {
			return nil, fmt.Errorf("line %d: %s %s listed twice", n, l.Kind, l.ID)
		}
		seen[l.Kind+" "+l.ID] = true
		if l.Kind != "permission-set" && l.Wide || l.Kind != "user" && (l.Heavy || l.Assignments != 0 || len(l.Groups) > 0) ||
			l.Kind != "instance" && l.Store != "" {
			return nil, fmt.Errorf("line %d: a field that a %s does not have", n, l.Kind)
		}
		switch l.Kind {
		case "instance":
			if f.instanceARN != "" {
				return nil, fmt.Errorf("line %d: a second instance", n)
			}
			if !instanceARNPattern.MatchString(l.ID) {
				return nil, fmt.Errorf("line %d: %q is not an instance ARN", n, l.ID)
			}
			if !instanceStoreIDPattern.MatchString(l.Store) {
				return nil, fmt.Errorf("line %d: store %q is not an identity store id", n, l.Store)
			}
			f.instanceARN, f.storeID = l.ID, l.Store
		case "account":
			if !accountIDPattern.MatchString(l.ID) {
				return nil, fmt.Errorf("line %d: account %q is not 12 digits", n, l.ID)
			}
			f.accounts = append(f.accounts, l.ID)
		case "permission-set":
			// Only the prefix is checked: emulators make ARNs of their own shape.
			if len(l.ID) < len("arn:") || l.ID[:4] != "arn:" || l.Name == "" {
				return nil, fmt.Errorf("line %d: permission set %q without an ARN or a name", n, l.ID)
			}
			f.permSets = append(f.permSets, fixturePermSet{arn: l.ID, name: l.Name, wide: l.Wide})
		case "group":
			if !resourceIDPattern.MatchString(l.ID) {
				return nil, fmt.Errorf("line %d: group %q is not a resource id", n, l.ID)
			}
			groupIndex[l.ID] = int32(len(f.groups))
			f.groups = append(f.groups, dirGroup{id: l.ID, name: l.Name})
		case "user":
			if !resourceIDPattern.MatchString(l.ID) {
				return nil, fmt.Errorf("line %d: user %q is not a resource id", n, l.ID)
			}
			if l.Assignments < 0 {
				return nil, fmt.Errorf("line %d: negative assignments", n)
			}
			u := fixtureUser{id: l.ID, name: l.Name, assignments: l.Assignments}
			in := map[int32]bool{}
			for _, g := range l.Groups {
				gi, ok := groupIndex[g]
				if !ok {
					return nil, fmt.Errorf("line %d: user %s is in group %s, not listed before it", n, l.ID, g)
				}
				if in[gi] {
					return nil, fmt.Errorf("line %d: user %s is in group %s twice", n, l.ID, g)
				}
				in[gi] = true
				u.groups = append(u.groups, gi)
			}
			if l.Heavy {
				f.heavy = append(f.heavy, int32(len(f.users)))
			}
			f.users = append(f.users, u)
		default:
			return nil, fmt.Errorf("line %d: unknown kind %q", n, l.Kind)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if f.instanceARN == "" {
		return nil, errors.New("no instance line")
	}
	return f, nil
}

// writeAccessIDs writes f in the format parseAccessIDs reads.
func writeAccessIDs(w io.Writer, f *accessFixture) error {
	bw := bufio.NewWriterSize(w, 256<<10)
	enc := json.NewEncoder(bw)
	lines := []accessLine{{Kind: "instance", ID: f.instanceARN, Store: f.storeID}}
	for _, a := range f.accounts {
		lines = append(lines, accessLine{Kind: "account", ID: a})
	}
	for _, ps := range f.permSets {
		lines = append(lines, accessLine{Kind: "permission-set", ID: ps.arn, Name: ps.name, Wide: ps.wide})
	}
	for _, g := range f.groups {
		lines = append(lines, accessLine{Kind: "group", ID: g.id, Name: g.name})
	}
	heavy := map[int32]bool{}
	for _, i := range f.heavy {
		heavy[i] = true
	}
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	for i, u := range f.users {
		l := accessLine{Kind: "user", ID: u.id, Name: u.name, Assignments: u.assignments, Heavy: heavy[int32(i)]}
		for _, g := range u.groups {
			l.Groups = append(l.Groups, f.groups[g].id)
		}
		if err := enc.Encode(l); err != nil {
			return err
		}
	}
	return bw.Flush()
}

func readAccessIDs(file string) (*accessFixture, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--ids: %w", err)
	}
	defer fh.Close()
	f, err := parseAccessIDs(fh)
	if err != nil {
		return nil, fmt.Errorf("--ids %s: %w", file, err)
	}
	return f, nil
}

// saveAccessIDs writes f to file through a temporary file and a rename.
func saveAccessIDs(file string, f *accessFixture) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), ".atrium-load-access-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := writeAccessIDs(tmp, f); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// widePermissionSet is the permission set assigned in every account, or nil.
func (f *accessFixture) widePermissionSet() *fixturePermSet {
	for i := range f.permSets {
		if f.permSets[i].wide {
			return &f.permSets[i]
		}
	}
	return nil
}

func (f *accessFixture) String() string {
	return fmt.Sprintf("instance %s (identity store %s): %d accounts, %d permission sets, %d users (%d heavy), %d groups",
		f.instanceARN, f.storeID, len(f.accounts), len(f.permSets), len(f.users), len(f.heavy), len(f.groups))
}
