package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/atrium-sso/atrium/internal/config"
	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/store"
)

// BenchmarkDescribeAccount measures one signed awsJson1.1 call through the
// whole handler in process: SigV4 verification, dispatch, model validation
// and the indexed read, on SQLite. Signing happens outside the timer.
func BenchmarkDescribeAccount(b *testing.B) {
	benchDescribeAccount(b, func(srv *Server, org *store.Organization, root aws.Credentials) aws.Credentials { return root })
}

// BenchmarkDescribeAccountRoleCredentials is the same call signed with
// temporary credentials of a role (AdministratorAccess) in the management
// account: the session credential is looked up and the role's policies
// evaluated on top.
func BenchmarkDescribeAccountRoleCredentials(b *testing.B) {
	benchDescribeAccount(b, func(srv *Server, org *store.Organization, _ aws.Credentials) aws.Credentials {
		ctx := context.Background()
		role := &store.IAMRole{AccountID: org.ManagementAccountID, Name: "Bench", Path: "/", RoleID: "AROABENCH000000000001",
			AssumeRolePolicy:  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + org.ManagementAccountID + `"},"Action":"sts:AssumeRole"}]}`,
			ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}}
		var issued *creds.Issued
		err := srv.Store().Write(ctx, func(tx store.Tx) error {
			if err := tx.PutRole(ctx, *role); err != nil {
				return err
			}
			var err error
			issued, err = creds.Issue(ctx, tx, creds.RoleSession{Role: role, SessionName: "bench", Duration: time.Hour}, time.Now())
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		return aws.Credentials{AccessKeyID: issued.AccessKeyID, SecretAccessKey: issued.SecretAccessKey, SessionToken: issued.SessionToken}
	})
}

func benchDescribeAccount(b *testing.B, signAs func(srv *Server, org *store.Organization, root aws.Credentials) aws.Credentials) {
	ctx := context.Background()
	cfg, err := config.Load([]string{"--data", b.TempDir()}, func(string) string { return "" })
	if err != nil {
		b.Fatal(err)
	}
	env := map[string]string{"ATRIUM_BOOTSTRAP_ACCESS_KEY_ID": "AKIABENCHMARK0000001", "ATRIUM_BOOTSTRAP_SECRET_ACCESS_KEY": strings.Repeat("k", 40)}
	srv, err := Open(ctx, cfg, func(k string) string { return env[k] }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Store().Close()
	var org *store.Organization
	srv.Store().Read(ctx, func(tx store.Tx) error { org, err = tx.GetOrganization(ctx); return err })
	body := `{"AccountId":"` + org.ManagementAccountID + `"}`
	sum := sha256.Sum256([]byte(body))
	signer := v4.NewSigner()
	creds := signAs(srv, org, aws.Credentials{AccessKeyID: env["ATRIUM_BOOTSTRAP_ACCESS_KEY_ID"], SecretAccessKey: env["ATRIUM_BOOTSTRAP_SECRET_ACCESS_KEY"]})
	reqs := make([]*http.Request, b.N)
	for i := range reqs {
		r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1:8080/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		r.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DescribeAccount")
		if err := signer.SignHTTP(ctx, creds, r, hex.EncodeToString(sum[:]), "organizations", "us-east-1", time.Now()); err != nil {
			b.Fatal(err)
		}
		reqs[i] = r
	}
	h := srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, reqs[i])
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
