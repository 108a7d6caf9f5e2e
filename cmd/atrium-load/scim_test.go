package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestScimSeed pushes a small directory through SCIM into a real server,
// checks it through identitystore, and runs again (everything already there).
func TestScimSeed(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	s := openServer(t)
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	ctx := context.Background()
	tgt, err := newTarget(ctx, hs.URL, nil, 1, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer tgt.close()
	storeID, err := listInstances(ctx, tgt, benchCreds())
	if err != nil {
		t.Fatal(err)
	}
	c := newRawCaller(tgt, benchCreds())
	b, cerr := c.post(ctx, "atrium", "AtriumAdmin.CreateScimToken", []byte(`{"IdentityStoreId":"`+storeID+`"}`))
	if cerr != nil {
		t.Fatal(cerr)
	}
	var tok struct{ Token string }
	json.Unmarshal(b, &tok)
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("SCIM endpoint: x\n"+tok.Token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	idsFile := filepath.Join(t.TempDir(), "ids.jsonl")
	args := []string{"scim-seed", "--endpoint", hs.URL, "--token-file", file, "--users", "30", "--groups", "6", "--memberships", "90",
		"--concurrency", "4", "--batch", "7", "--json", "--progress", "0", "--ids", idsFile}
	var stdout, stderr bytes.Buffer
	if code := run(ctx, args, &stdout, &stderr, func(string) string { return "" }); code != 0 {
		t.Fatalf("scim-seed: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	var res scimSeedResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Phases) != 3 || res.Phases[0].Created != 6 || res.Phases[1].Created != 30 || res.Memberships != 90 || res.Errors != 0 || res.MembershipsPerSecond <= 0 {
		t.Fatalf("scim-seed: %s", stdout.String())
	}
	// identitystore sees every membership.
	total := 0
	var listed struct {
		Groups []struct{ GroupId string }
	}
	b, cerr = c.post(ctx, idsSigningName, idsTargetPrefix+"ListGroups", []byte(`{"IdentityStoreId":"`+storeID+`"}`))
	if cerr != nil || json.Unmarshal(b, &listed) != nil || len(listed.Groups) != 6 {
		t.Fatalf("ListGroups: %s %v", b, cerr)
	}
	for _, g := range listed.Groups {
		var m struct{ GroupMemberships []any }
		b, cerr := c.post(ctx, idsSigningName, idsTargetPrefix+"ListGroupMemberships", []byte(`{"IdentityStoreId":"`+storeID+`","GroupId":"`+g.GroupId+`"}`))
		if cerr != nil || json.Unmarshal(b, &m) != nil {
			t.Fatalf("ListGroupMemberships: %v", cerr)
		}
		total += len(m.GroupMemberships)
	}
	if total != 90 {
		t.Fatalf("identitystore shows %d memberships, want 90", total)
	}
	// The ids file names the store (read from the users' ids) and what was
	// made, as seed's does, for the directory load.
	d, err := readIDs(idsFile)
	if err != nil {
		t.Fatal(err)
	}
	if d.storeID != storeID || len(d.users) != 30 || len(d.groups) != 6 || d.membership != 90 {
		t.Fatalf("ids file: %s, want store %s with 30 users, 6 groups, 90 memberships", d, storeID)
	}
	for _, u := range d.users {
		for _, g := range u.groups {
			var in struct {
				Results []struct{ MembershipExists bool }
			}
			b, cerr := c.post(ctx, idsSigningName, idsTargetPrefix+"IsMemberInGroups", []byte(`{"IdentityStoreId":"`+storeID+
				`","MemberId":{"UserId":"`+u.id+`"},"GroupIds":["`+d.groups[g].id+`"]}`))
			if cerr != nil || json.Unmarshal(b, &in) != nil || len(in.Results) != 1 || !in.Results[0].MembershipExists {
				t.Fatalf("ids file says %s is in %s; IsMemberInGroups: %s %v", u.name, d.groups[g].name, b, cerr)
			}
		}
	}
	// Again: everything is there already.
	stdout.Reset()
	if code := run(ctx, args, &stdout, &stderr, func(string) string { return "" }); code != 0 {
		t.Fatalf("re-run: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	res = scimSeedResult{}
	json.Unmarshal(stdout.Bytes(), &res)
	if res.Phases[0].Existing != 6 || res.Phases[1].Existing != 30 || res.Errors != 0 {
		t.Fatalf("re-run: %s", stdout.String())
	}
	// Without a token it refuses to start.
	if code := run(ctx, []string{"scim-seed", "--endpoint", hs.URL, "--users", "1"}, io.Discard, io.Discard, func(string) string { return "" }); code != 2 {
		t.Fatalf("no token: exit %d", code)
	}
}

func TestStoreOfIDs(t *testing.T) {
	for _, tc := range []struct {
		ids  []string
		want string
	}{
		{[]string{"9067549d82-0193a6f2-1c2d-7e3f-8a4b-5c6d7e8f9a0b", "", "9067549d82-0193a6f2-1c2d-7e3f-8a4b-5c6d7e8f9a0c"}, "d-9067549d82"},
		{[]string{"9067549d82-0193a6f2-1c2d-7e3f-8a4b-5c6d7e8f9a0b", "1067549d82-0193a6f2-1c2d-7e3f-8a4b-5c6d7e8f9a0c"}, ""},
		{[]string{"0193a6f2-1c2d-7e3f-8a4b-5c6d7e8f9a0b"}, ""},
		{[]string{"9067549D82-0193a6f2-1c2d-7e3f-8a4b-5c6d7e8f9a0b"}, ""},
		{nil, ""},
	} {
		if got := storeOfIDs(tc.ids); got != tc.want {
			t.Errorf("storeOfIDs(%q) = %q, want %q", tc.ids, got, tc.want)
		}
	}
}
