package creds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/atrium-sso/atrium/internal/awsproto/sigv4"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

func signed(t *testing.T, id, secret string) (*http.Request, []byte) {
	t.Helper()
	return signedWith(t, aws.Credentials{AccessKeyID: id, SecretAccessKey: secret})
}

func signedWith(t *testing.T, c aws.Credentials) (*http.Request, []byte) {
	t.Helper()
	body := []byte(`{}`)
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/", strings.NewReader(string(body)))
	r.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), c, r,
		hex.EncodeToString(sum[:]), "organizations", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	io.ReadAll(r.Body)
	return r, body
}

// A key deactivated or rotated in the store stops working within keyTTL,
// on every node, though this node cached it.
func TestDeactivatedKeyStopsWorkingWithinTTL(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.Migrate(ctx, nil)
	key := store.AccessKey{ID: "AKIATESTTESTTEST0001", Secret: strings.Repeat("a", 40), AccountID: "111111111111",
		PrincipalARN: "arn:aws:iam::111111111111:root", UserID: "111111111111", Status: "Active"}
	db.Write(ctx, func(tx store.Tx) error { return tx.PutAccessKey(ctx, key) })

	clock := time.Now()
	a := NewAuthenticator(db, "111111111111")
	a.now = func() time.Time { return clock }
	r, body := signed(t, key.ID, key.Secret)
	p, err := a.Authenticate(ctx, r, body)
	if err != nil || !p.Admin || p.ARN != key.PrincipalARN {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}

	key.Status = "Inactive"
	db.Write(ctx, func(tx store.Tx) error { return tx.PutAccessKey(ctx, key) })
	clock = clock.Add(keyTTL + time.Millisecond)
	r, body = signed(t, key.ID, key.Secret)
	_, err = a.Authenticate(ctx, r, body)
	var se *sigv4.Error
	if !errors.As(err, &se) || se.Kind != sigv4.UnknownKey {
		t.Fatalf("deactivated key after the TTL: %v", err)
	}
}

// A member account's root is not an admin of the organization.
func TestOnlyTheManagementRootIsAdmin(t *testing.T) {
	ctx := context.Background()
	db, _ := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atrium.db"))
	defer db.Close()
	db.Migrate(ctx, nil)
	key := store.AccessKey{ID: "AKIATESTTESTTEST0002", Secret: strings.Repeat("b", 40), AccountID: "222222222222",
		PrincipalARN: "arn:aws:iam::222222222222:root", UserID: "222222222222", Status: "Active"}
	db.Write(ctx, func(tx store.Tx) error { return tx.PutAccessKey(ctx, key) })
	r, body := signed(t, key.ID, key.Secret)
	p, err := NewAuthenticator(db, "111111111111").Authenticate(ctx, r, body)
	if err != nil || p.Admin {
		t.Fatalf("member root = %+v, %v", p, err)
	}
}

// issued stores temporary credentials for a role of account 222222222222.
func issued(t *testing.T, db store.Store, now time.Time, d time.Duration) *Issued {
	t.Helper()
	role := &store.IAMRole{AccountID: "222222222222", Name: "Ops", Path: "/team/", RoleID: "AROAOPS00000000000001"}
	var out *Issued
	err := db.Write(context.Background(), func(tx store.Tx) error {
		var err error
		out, err = Issue(context.Background(), tx, RoleSession{Role: role, SessionName: "alice", SourceARN: "arn:aws:iam::111111111111:root",
			SessionID: "signin-1", Duration: d}, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func openStore(t *testing.T) store.Store {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return db
}

func kindOf(err error) string {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return se.Kind.String()
	}
	return fmt.Sprint(err)
}

// Temporary credentials speak for their role session, until the second
// they expire.
func TestRoleCredentialsUntilTheyExpire(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	clock := time.Now().Truncate(time.Second)
	a := NewAuthenticator(db, "111111111111")
	a.now = func() time.Time { return clock }
	a.Revocation = signInSessions{"signin-1": nil}
	c := issued(t, db, clock, 15*time.Minute)
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}

	r, body := signedWith(t, creds)
	p, err := a.Authenticate(ctx, r, body)
	if err != nil {
		t.Fatal(err)
	}
	want := principal.Principal{AccountID: "222222222222", ARN: "arn:aws:sts::222222222222:assumed-role/Ops/alice",
		UserID: "AROAOPS00000000000001:alice", AccessKeyID: c.AccessKeyID}
	role := principal.RoleSession{RoleARN: "arn:aws:iam::222222222222:role/team/Ops", RoleID: "AROAOPS00000000000001", SessionName: "alice",
		SessionID: "signin-1", IssuedAt: clock.UTC(), ExpiresAt: clock.UTC().Add(15 * time.Minute)}
	if p.Role == nil || !reflect.DeepEqual(*p.Role, role) || p.Admin {
		t.Fatalf("role session = %+v; want %+v", p.Role, role)
	}
	p.Role = nil
	if *p != want {
		t.Fatalf("principal = %+v; want %+v", *p, want)
	}

	clock = clock.Add(15*time.Minute - time.Millisecond)
	r, body = signedWith(t, creds)
	if _, err := a.Authenticate(ctx, r, body); err != nil {
		t.Fatalf("a millisecond before expiry: %v", err)
	}
	clock = clock.Add(time.Millisecond)
	r, body = signedWith(t, creds)
	if _, err := a.Authenticate(ctx, r, body); kindOf(err) != "ExpiredToken" {
		t.Fatalf("at expiry: %v", err)
	}
}

// A session credential removed from the database (as revocation will)
// stops working on this node within keyTTL, though it was cached.
func TestRemovedSessionCredentialStopsWorkingWithinTTL(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	clock := time.Now()
	a := NewAuthenticator(db, "111111111111")
	a.now = func() time.Time { return clock }
	a.Revocation = signInSessions{"signin-1": nil}
	c := issued(t, db, clock, time.Hour)
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	r, body := signedWith(t, creds)
	if _, err := a.Authenticate(ctx, r, body); err != nil {
		t.Fatal(err)
	}
	db.Write(ctx, func(tx store.Tx) error {
		_, err := tx.DeleteExpiredSessionCredentials(ctx, clock.Add(2*time.Hour))
		return err
	})
	clock = clock.Add(keyTTL)
	r, body = signedWith(t, creds)
	if _, err := a.Authenticate(ctx, r, body); kindOf(err) != "UnknownKey" {
		t.Fatalf("removed credential after keyTTL: %v", err)
	}
}

// Only the token's hash is kept: whoever reads the database cannot sign as
// the session's holder without the token.
func TestStoredCredentialKeepsNoToken(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	c := issued(t, db, time.Now(), time.Hour)
	var got *store.SessionCredential
	db.Read(ctx, func(tx store.Tx) error {
		var err error
		got, err = tx.GetSessionCredential(ctx, c.AccessKeyID)
		return err
	})
	sum := sha256.Sum256([]byte(c.SessionToken))
	if got == nil || got.SessionTokenHash != hex.EncodeToString(sum[:]) || strings.Contains(fmt.Sprintf("%+v", *got), c.SessionToken) {
		t.Fatalf("stored %+v", got)
	}
	a := NewAuthenticator(db, "111111111111")
	r, body := signedWith(t, aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: got.SessionTokenHash})
	if _, err := a.Authenticate(ctx, r, body); kindOf(err) != "UnknownKey" {
		t.Fatalf("the stored hash used as the token: %v", err)
	}
}

// signInSessions answers for sign-in sessions by id: the error each has
// (nil = live); an unknown one is revoked.
type signInSessions map[string]error

func (s signInSessions) ValidateSessionCredential(ctx context.Context, c *store.SessionCredential) error {
	err, ok := s[c.SessionID]
	if !ok {
		return ErrRevoked
	}
	return err
}

// Credentials issued from a sign-in session are checked at every call:
// revoked ones are an invalid token, a failed check is a fault (not a
// pass), and with no one to ask they are refused. Credentials of a plain
// AssumeRole have no session to ask about.
func TestSessionCredentialsNeedTheirSignInSession(t *testing.T) {
	ctx := context.Background()
	db := openStore(t)
	c := issued(t, db, time.Now(), time.Hour)
	creds := aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	broken := errors.New("database down")
	for name, tc := range map[string]struct {
		check SessionValidator
		want  string
	}{
		"live":        {signInSessions{"signin-1": nil}, ""},
		"revoked":     {signInSessions{"signin-1": ErrRevoked}, "UnknownKey"},
		"unknown":     {signInSessions{}, "UnknownKey"},
		"check fails": {signInSessions{"signin-1": broken}, broken.Error()},
		"no checker":  {nil, "UnknownKey"},
	} {
		a := NewAuthenticator(db, "111111111111")
		a.Revocation = tc.check
		r, body := signedWith(t, creds)
		_, err := a.Authenticate(ctx, r, body)
		if got := kindOf(err); (err == nil) != (tc.want == "") || (err != nil && got != tc.want) {
			t.Errorf("%s: %v; want %q", name, err, tc.want)
		}
	}
	// A plain AssumeRole's credentials are not tied to a session.
	role := &store.IAMRole{AccountID: "222222222222", Name: "Ops", Path: "/team/", RoleID: "AROAOPS00000000000001"}
	var plain *Issued
	db.Write(ctx, func(tx store.Tx) error {
		var err error
		plain, err = Issue(ctx, tx, RoleSession{Role: role, SessionName: "ci", SourceARN: "arn:aws:iam::111111111111:root", Duration: time.Hour}, time.Now())
		return err
	})
	a := NewAuthenticator(db, "111111111111")
	a.Revocation = signInSessions{}
	r, body := signedWith(t, aws.Credentials{AccessKeyID: plain.AccessKeyID, SecretAccessKey: plain.SecretAccessKey, SessionToken: plain.SessionToken})
	if _, err := a.Authenticate(ctx, r, body); err != nil {
		t.Fatalf("plain AssumeRole credentials: %v", err)
	}
}
