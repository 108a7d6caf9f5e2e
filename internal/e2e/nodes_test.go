package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
	"github.com/atrium-sso/atrium/internal/testenv"
)

// Two nodes started at the same moment on one empty PostgreSQL database
// bootstrap it once, and each sees what the other writes.
func TestTwoNodesBootstrapOnce(t *testing.T) {
	dsn := testenv.PostgresDatabase(t)
	var nodes [2]*node
	var wg sync.WaitGroup
	for i := range nodes {
		nodes[i] = launch(t, nodeOptions{database: dsn})
	}
	for i := range nodes {
		wg.Add(1)
		go func(n *node) {
			defer wg.Done()
			if err := n.waitHealthy(20 * time.Second); err != nil {
				t.Errorf("node not healthy: %v\n%s", err, n.Log())
			}
		}(nodes[i])
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	var written []*node
	for _, n := range nodes {
		n.loadCredentials(nodeOptions{})
		if n.KeyID != "" {
			written = append(written, n)
		}
	}
	if len(written) != 1 {
		t.Fatalf("%d nodes wrote bootstrap credentials; exactly one must", len(written))
	}
	for _, n := range nodes {
		n.KeyID, n.Secret = written[0].KeyID, written[0].Secret
	}
	a, err := nodes[0].organizations().DescribeOrganization(ctxT(t), &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := nodes[1].organizations().DescribeOrganization(ctxT(t), &organizations.DescribeOrganizationInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *a.Organization.Id != *b.Organization.Id {
		t.Fatalf("two organizations: %s and %s", *a.Organization.Id, *b.Organization.Id)
	}
	st := createAccount(t, nodes[0].organizations(), "Shared", "shared@example.com")
	seen := false
	for _, acct := range listAllAccounts(t, nodes[1].organizations()) {
		seen = seen || *acct.Id == *st.AccountId
	}
	if !seen {
		t.Fatal("an account created through one node is not listed by the other")
	}
	if len(listAllAccounts(t, nodes[1].organizations())) != 2 {
		t.Fatal("bootstrap made more than one management account")
	}
}

// A bootstrap key from the environment is used as given, and no file is written.
func TestBootstrapKeyFromEnvironment(t *testing.T) {
	env := []string{"ATRIUM_BOOTSTRAP_ACCESS_KEY_ID=AKIAATRIUMTESTKEY001", "ATRIUM_BOOTSTRAP_SECRET_ACCESS_KEY=" + strings.Repeat("s", 40)}
	n := startNode(t, nodeOptions{env: env, args: []string{"--management-account-id", "123456789012"}})
	who, err := n.sts().GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *who.Account != "123456789012" || *who.Arn != "arn:aws:iam::123456789012:root" {
		t.Fatalf("GetCallerIdentity = %s %s", *who.Account, *who.Arn)
	}
	if _, err := os.Stat(filepath.Join(n.Data, "bootstrap-credentials")); !os.IsNotExist(err) {
		t.Fatalf("credentials file written although the key came from the environment: %v", err)
	}
}

// The generated key is written once, private to its owner, and never logged.
func TestBootstrapCredentialsFile(t *testing.T) {
	n := startNode(t, nodeOptions{})
	path := filepath.Join(n.Data, "bootstrap-credentials")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode %v, want 0600", fi.Mode().Perm())
	}
	body, _ := os.ReadFile(path)
	if !strings.Contains(string(body), "[atrium-admin]") || !strings.HasPrefix(n.KeyID, "AKIA") || len(n.KeyID) != 20 || len(n.Secret) != 40 {
		t.Fatalf("credentials file:\n%s", body)
	}
	if !strings.Contains(n.Log(), path) || strings.Contains(n.Log(), n.Secret) {
		t.Fatalf("the log must name the file and never the secret:\n%s", n.Log())
	}
	// A restart on the same data keeps the file as it was.
	n.stop()
	n2 := startNode(t, nodeOptions{data: n.Data})
	again, _ := os.ReadFile(path)
	if string(again) != string(body) || n2.KeyID != n.KeyID {
		t.Fatal("restart rewrote the bootstrap credentials")
	}
}

// SIGTERM lets a request already in flight finish, then exits 0.
func TestSIGTERMDrainsInFlightRequests(t *testing.T) {
	n := startNode(t, nodeOptions{})
	// A request whose body is still arriving when the signal comes.
	conn, err := net.Dial("tcp", strings.TrimPrefix(n.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"AccountId":"123456789012"}`
	fmt.Fprintf(conn, "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSOrganizationsV20161128.DescribeAccount\r\nContent-Type: application/x-amz-json-1.1\r\nContent-Length: %d\r\n\r\n%s", len(body), body[:5])
	time.Sleep(100 * time.Millisecond)
	n.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	select {
	case <-n.exited:
		t.Fatal("exited with a request in flight")
	default:
	}
	io.WriteString(conn, body[5:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("in-flight request cut off: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 || resp.Header.Get("x-amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Fatalf("in-flight request answered %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
	select {
	case <-n.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("did not exit after draining")
	}
	if n.exitErr != nil {
		t.Fatalf("exit status after SIGTERM: %v\n%s", n.exitErr, n.Log())
	}
}

// Every state-changing call leaves an audit record with who, from where,
// the parameters with secrets hidden, and the error if it failed; reads leave none.
func TestAuditRecordsChanges(t *testing.T) {
	n := startNode(t, nodeOptions{})
	c := n.organizations()
	_, err := c.CreateAccount(ctxT(t), &organizations.CreateAccountInput{AccountName: aws.String("Audited"), Email: aws.String("audited@example.com"),
		IamUserAccessToBilling: "DENY"})
	if err != nil {
		t.Fatal(err)
	}
	c.CloseAccount(ctxT(t), &organizations.CloseAccountInput{AccountId: aws.String("111111111111")})
	c.DescribeOrganization(ctxT(t), &organizations.DescribeOrganizationInput{})
	if err := n.stop(); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(ctxT(t), filepath.Join(n.Data, "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var events []store.AuditEvent
	db.Read(ctxT(t), func(tx store.Tx) error {
		events, err = tx.ListAudit(ctxT(t), store.AuditCursor{}, 100)
		return err
	})
	byName := map[string]store.AuditEvent{}
	for _, e := range events {
		if _, dup := byName[e.EventName]; dup {
			t.Fatalf("%s recorded twice", e.EventName)
		}
		byName[e.EventName] = e
	}
	create, ok := byName["CreateAccount"]
	if !ok {
		t.Fatalf("no CreateAccount record in %+v", events)
	}
	if create.Source != "organizations.amazonaws.com" || !strings.HasSuffix(create.PrincipalARN, ":root") || create.SourceIP != "127.0.0.1" ||
		create.AccessKeyID != n.KeyID || !strings.Contains(create.UserAgent, "aws-sdk-go-v2") || create.ErrorCode != "" || create.RequestID == "" {
		t.Fatalf("CreateAccount record = %+v", create)
	}
	if strings.Contains(create.RequestParams, "audited@example.com") || !strings.Contains(create.RequestParams, "HIDDEN_DUE_TO_SECURITY_REASONS") ||
		strings.Contains(create.RequestParams, "Audited") || !strings.Contains(create.RequestParams, `"IamUserAccessToBilling":"DENY"`) {
		t.Fatalf("CreateAccount parameters must hide what the model marks sensitive (email, name) and keep the rest: %s", create.RequestParams)
	}
	closeEv, ok := byName["CloseAccount"]
	if !ok || closeEv.ErrorCode != "AccountNotFoundException" {
		t.Fatalf("failed CloseAccount record = %+v", closeEv)
	}
	if _, ok := byName["DescribeOrganization"]; ok {
		t.Fatal("a read was audited as a change")
	}
}

// /metrics counts calls by service, operation and outcome, and shows the pools.
func TestMetrics(t *testing.T) {
	n := startNode(t, nodeOptions{})
	n.organizations().DescribeOrganization(ctxT(t), &organizations.DescribeOrganizationInput{})
	n.organizations().DescribeAccount(ctxT(t), &organizations.DescribeAccountInput{AccountId: aws.String("111111111111")})
	resp, err := http.Get(n.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`atrium_api_requests_total{error_code="",operation="DescribeOrganization",service="organizations",status="200"} 1`,
		`atrium_api_requests_total{error_code="AccountNotFoundException",operation="DescribeAccount",service="organizations",status="400"} 1`,
		`atrium_api_request_duration_seconds_bucket{operation="DescribeOrganization",service="organizations"`,
		`atrium_db_connections_open{pool="read"}`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// Request lines carry the request id and the principal.
	if !strings.Contains(n.Log(), "operation=DescribeOrganization") || !strings.Contains(n.Log(), "principal=arn:aws:iam::") {
		t.Fatalf("request log lines:\n%s", n.Log())
	}
}
