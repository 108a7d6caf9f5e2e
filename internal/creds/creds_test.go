package creds

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/atrium-sso/atrium/internal/awsproto/sigv4"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

func signed(t *testing.T, id, secret string) (*http.Request, []byte) {
	t.Helper()
	body := []byte(`{}`)
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/", strings.NewReader(string(body)))
	r.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization")
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret}, r,
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
