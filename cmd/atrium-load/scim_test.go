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
	args := []string{"scim-seed", "--endpoint", hs.URL, "--token-file", file, "--users", "30", "--groups", "6", "--memberships", "90",
		"--concurrency", "4", "--batch", "7", "--json", "--progress", "0"}
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
