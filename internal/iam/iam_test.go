package iam_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/atrium-sso/atrium/internal/authz"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/iam"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

const (
	mgmtAcct   = "111111111111"
	memberAcct = "222222222222"
)

var ctx = context.Background()

// world is the IAM API on a real edge and store, with clients signing as
// the root of the management account and as the root of a member account
// that CreateAccount made (so it has OrganizationAccountAccessRole).
type world struct {
	db           store.Store
	mgmt, member *sdkiam.Client
}

func newWorld(t *testing.T) *world {
	t.Helper()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	keys := map[string]store.AccessKey{}
	for _, acct := range []string{mgmtAcct, memberAcct} {
		keys[acct] = store.AccessKey{ID: ids.AccessKeyID(), Secret: ids.SecretAccessKey(), AccountID: acct,
			PrincipalARN: "arn:aws:iam::" + acct + ":root", UserID: acct, Status: "Active", CreatedAt: time.Now()}
	}
	write(t, db, func(tx store.Tx) error {
		for _, k := range keys {
			if err := tx.PutAccessKey(ctx, k); err != nil {
				return err
			}
		}
		return iam.CreateOrganizationAccountAccessRole(ctx, tx, memberAcct, mgmtAcct)
	})
	edge := &awsproto.Edge{Auth: creds.NewAuthenticator(db, mgmtAcct), Authorizer: authz.New(db, mgmtAcct), Next: http.NotFoundHandler()}
	edge.Register(iam.New(db, awsproto.NewPager([]byte("test"))).API())
	srv := httptest.NewServer(edge)
	t.Cleanup(srv.Close)
	client := func(k store.AccessKey) *sdkiam.Client {
		// The SDK's retries stay on: it retries a connection its own transport
		// closes under a response (aws/aws-sdk-go-v2#2737), which a server this
		// fast makes likely.
		return sdkiam.New(sdkiam.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: credentials.NewStaticCredentialsProvider(k.ID, k.Secret, "")})
	}
	return &world{db: db, mgmt: client(keys[mgmtAcct]), member: client(keys[memberAcct])}
}

func write(t *testing.T, s store.Store, fn func(store.Tx) error) {
	t.Helper()
	if err := s.Write(ctx, fn); err != nil {
		t.Fatal(err)
	}
}

// wantError checks an SDK error's code, HTTP status and message.
func wantError(t *testing.T, what string, err error, code string, status int, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("%s = %v, want %s", what, err, code)
	}
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) || re.HTTPStatusCode() != status {
		t.Fatalf("%s: HTTP status of %v, want %d", what, err, status)
	}
	if message != "" && ae.ErrorMessage() != message {
		t.Fatalf("%s: message %q, want %q", what, ae.ErrorMessage(), message)
	}
}

// decoded undoes IAM's URL encoding of a policy document, as clients must.
func decoded(t *testing.T, doc *string) string {
	t.Helper()
	s, err := url.QueryUnescape(aws.ToString(doc))
	if err != nil {
		t.Fatalf("document %q is not URL-encoded: %v", aws.ToString(doc), err)
	}
	return s
}
