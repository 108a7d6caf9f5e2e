// Package testenv gives tests the real outside parts they need, or skips
// them with a clear message when this machine lacks them (CI never does).
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// PostgresDSN is the server named by ATRIUM_TEST_POSTGRES_DSN; the test is
// skipped when it is unset.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("ATRIUM_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("PostgreSQL tests skipped: set ATRIUM_TEST_POSTGRES_DSN (e.g. postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable); .ci/run does")
	}
	return dsn
}

// PostgresDatabase creates a fresh, empty database on that server for one
// test, dropped when the test ends, and returns its DSN.
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	dsn := PostgresDSN(t)
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "atrium_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// FindAWSCLIv2 is the path of an AWS CLI v2, or "" when this machine has
// none: ATRIUM_TEST_AWSCLI2, then Debian's awscli package (2.9.19 as
// /usr/bin/aws, behind the preinstalled v1 on PATH), then aws on PATH.
func FindAWSCLIv2() string {
	candidates := []string{os.Getenv("ATRIUM_TEST_AWSCLI2"), "/usr/bin/aws"}
	if p, err := exec.LookPath("aws"); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if out, err := exec.Command(c, "--version").CombinedOutput(); err == nil && strings.HasPrefix(string(out), "aws-cli/2.") {
			return c
		}
	}
	return ""
}

// AWSCLIv2 is FindAWSCLIv2's CLI; the test is skipped without one.
func AWSCLIv2(t testing.TB) string {
	t.Helper()
	cli := FindAWSCLIv2()
	if cli == "" {
		t.Skip("AWS CLI v2 tests skipped: no aws-cli/2 (apt-get install awscli, or set ATRIUM_TEST_AWSCLI2); .ci/run installs it")
	}
	return cli
}
