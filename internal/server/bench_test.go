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
	"github.com/atrium-sso/atrium/internal/store"
)

// BenchmarkDescribeAccount measures one signed awsJson1.1 call through the
// whole handler in process: SigV4 verification, dispatch, model validation
// and the indexed read, on SQLite. Signing happens outside the timer.
func BenchmarkDescribeAccount(b *testing.B) {
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
	creds := aws.Credentials{AccessKeyID: env["ATRIUM_BOOTSTRAP_ACCESS_KEY_ID"], SecretAccessKey: env["ATRIUM_BOOTSTRAP_SECRET_ACCESS_KEY"]}
	signer := v4.NewSigner()
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
