package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
)

const (
	region          = "us-east-1"
	orgTargetPrefix = "AWSOrganizationsV20161128."
	userAgent       = "atrium-load/1"
	maxResponse     = 1 << 20
)

// loadCredentials reads the profile from a shared-credentials file, or the
// standard environment variables when no file is given.
func loadCredentials(ctx context.Context, file, profile string, getenv func(string) string) (aws.Credentials, error) {
	if file != "" {
		sc, err := config.LoadSharedConfigProfile(ctx, profile, func(o *config.LoadSharedConfigOptions) {
			o.CredentialsFiles = []string{file}
			o.ConfigFiles = []string{}
		})
		if err != nil {
			return aws.Credentials{}, fmt.Errorf("--credentials %s: %w", file, err)
		}
		if !sc.Credentials.HasKeys() {
			return aws.Credentials{}, fmt.Errorf("--credentials %s: profile %s has no aws_access_key_id / aws_secret_access_key", file, profile)
		}
		return sc.Credentials, nil
	}
	c := aws.Credentials{AccessKeyID: getenv("AWS_ACCESS_KEY_ID"), SecretAccessKey: getenv("AWS_SECRET_ACCESS_KEY"), SessionToken: getenv("AWS_SESSION_TOKEN")}
	if !c.HasKeys() {
		return aws.Credentials{}, errors.New("no credentials: pass --credentials FILE or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
	}
	return c, nil
}

// operation is one API call the load can repeat.
type operation struct {
	signingName string
	contentType string
	target      string // X-Amz-Target for awsJson1.1; "" for awsQuery
	body        func(accountID string) []byte
	// check validates a 200 response body.
	check func(body []byte, accountID string) error
	// needsAccount: the management account is looked up first when --account-id is not given.
	needsAccount bool

	// The identitystore ops make a new request for every call (a random
	// existing user, a new user name) with next, and check the answer
	// against what that request expects with checkWant; body and check are
	// then unused.
	next      func(g *gen) ([]byte, expect)
	checkWant func(body []byte, want *expect) error
	needs     dirNeed // what the directory must hold

	// The sso-admin ops (accessops.go) read their fixture and make their
	// callers in prepare; a call of theirs may take several requests (call).
	prepare func(ctx context.Context, o *options, tgt *target, creds aws.Credentials) (*prepared, error)
	call    func(ctx context.Context, c *caller) ([]byte, *callError)
}

// prepared is what an op's prepare made ready for a run.
type prepared struct {
	about     string                   // what the calls pick from, for the report
	newCaller func(worker int) *caller // worker -1 is the first, checking call
	// finish runs after the measured window (and its figures): it waits for
	// work the calls left queued and says how that ended; failures count as
	// errors of the run.
	finish func(ctx context.Context) (note string, failures int64)
}

var operations = map[string]*operation{
	"describe-account": {
		signingName: "organizations", contentType: "application/x-amz-json-1.1", target: orgTargetPrefix + "DescribeAccount",
		body:         func(id string) []byte { b, _ := json.Marshal(map[string]string{"AccountId": id}); return b },
		check:        checkDescribeAccount,
		needsAccount: true,
	},
	"list-accounts": {
		signingName: "organizations", contentType: "application/x-amz-json-1.1", target: orgTargetPrefix + "ListAccounts",
		body:  func(string) []byte { return []byte(`{}`) },
		check: checkListAccounts,
	},
	"get-caller-identity": {
		signingName: "sts", contentType: "application/x-www-form-urlencoded; charset=utf-8",
		body:  func(string) []byte { return []byte("Action=GetCallerIdentity&Version=2011-06-15") },
		check: checkGetCallerIdentity,
	},
}

var describeOrganization = &operation{
	signingName: "organizations", contentType: "application/x-amz-json-1.1", target: orgTargetPrefix + "DescribeOrganization",
	body: func(string) []byte { return []byte(`{}`) },
	check: func(b []byte, _ string) error {
		_, err := managementAccount(b)
		return err
	},
}

func checkDescribeAccount(b []byte, accountID string) error {
	var out struct {
		Account *struct{ Id string }
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return errors.New("body is not JSON")
	}
	if out.Account == nil {
		return errors.New("no Account in the body")
	}
	if out.Account.Id != accountID {
		return fmt.Errorf("Account.Id %q, want %q", out.Account.Id, accountID)
	}
	return nil
}

func checkListAccounts(b []byte, _ string) error {
	var out struct {
		Accounts []struct{ Id string }
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return errors.New("body is not JSON")
	}
	if len(out.Accounts) == 0 || out.Accounts[0].Id == "" {
		return errors.New("no Accounts in the body")
	}
	return nil
}

func checkGetCallerIdentity(b []byte, _ string) error {
	var out struct {
		XMLName xml.Name `xml:"GetCallerIdentityResponse"`
		Result  struct {
			Account string
			Arn     string
		} `xml:"GetCallerIdentityResult"`
	}
	if err := xml.Unmarshal(b, &out); err != nil {
		return errors.New("body is not a GetCallerIdentityResponse")
	}
	if !accountIDPattern.MatchString(out.Result.Account) || !strings.HasPrefix(out.Result.Arn, "arn:") {
		return fmt.Errorf("GetCallerIdentityResult has Account %q, Arn %q", out.Result.Account, out.Result.Arn)
	}
	return nil
}

func managementAccount(b []byte) (string, error) {
	var out struct {
		Organization *struct{ MasterAccountId string }
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", errors.New("body is not JSON")
	}
	if out.Organization == nil || !accountIDPattern.MatchString(out.Organization.MasterAccountId) {
		return "", errors.New("no Organization.MasterAccountId in the body")
	}
	return out.Organization.MasterAccountId, nil
}

// caller makes signed calls of one operation. A caller is used by one worker.
type caller struct {
	tgt       *target
	op        *operation
	creds     aws.Credentials
	signer    *v4.Signer
	url       string
	body      []byte
	accountID string
	buf       bytes.Buffer

	gen  *gen   // the identitystore ops: this worker's request maker
	want expect // what the current request's answer must hold
}

func newCaller(tgt *target, op *operation, creds aws.Credentials, accountID string) *caller {
	c := newRawCaller(tgt, creds)
	c.op, c.accountID = op, accountID
	if op.body != nil {
		c.body = op.body(accountID)
	}
	return c
}

// newDirCaller is a caller of an identitystore op; worker seeds its choices.
func newDirCaller(tgt *target, op *operation, creds aws.Credentials, d *directory, worker int) *caller {
	c := newRawCaller(tgt, creds)
	c.op, c.gen = op, newGen(d, worker)
	return c
}

// newRawCaller is a caller without an operation: its calls go through post.
func newRawCaller(tgt *target, creds aws.Credentials) *caller {
	return &caller{tgt: tgt, creds: creds, signer: v4.NewSigner(), url: tgt.url.String() + "/"}
}

// callError is a failed call, classified for counting.
type callError struct {
	key  string // "HTTP 403 InvalidSignatureException", "transport: …", "HTTP 200 bad body"
	msg  string // one example, for the report
	code string // the AWS error code of an error answer
}

func (e *callError) Error() string { return e.key + ": " + e.msg }

// request builds and signs the operation's next request.
func (c *caller) request(ctx context.Context) (*http.Request, error) {
	if c.op.next != nil {
		c.body, c.want = c.op.next(c.gen)
	}
	return c.sign(ctx, c.op.signingName, c.op.contentType, c.op.target, c.body)
}

// sign builds and signs one request, as an SDK does for every call:
// the body's SHA-256, then SigV4 over the method, path, headers and that hash.
func (c *caller) sign(ctx context.Context, signingName, contentType, target string, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", userAgent)
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, c.creds, req, hex.EncodeToString(sum[:]), signingName, region, time.Now()); err != nil {
		return nil, err
	}
	return req, nil
}

// do builds, signs and sends the operation's next request and checks its
// answer; it returns the response body on success.
func (c *caller) do(ctx context.Context) ([]byte, *callError) {
	if c.op.call != nil {
		return c.op.call(ctx, c)
	}
	req, err := c.request(ctx)
	if err != nil {
		return nil, &callError{key: "client: request", msg: err.Error()}
	}
	b, cerr := c.roundTrip(req)
	if cerr != nil {
		return nil, cerr
	}
	if c.op.checkWant != nil {
		err = c.op.checkWant(b, &c.want)
	} else {
		err = c.op.check(b, c.accountID)
	}
	if err != nil {
		return nil, &callError{key: "HTTP 200 bad body", msg: err.Error()}
	}
	return b, nil
}

// post sends one signed awsJson1.1 call and returns the body of its 200
// answer, unchecked. The body is valid until the caller's next call.
func (c *caller) post(ctx context.Context, signingName, target string, body []byte) ([]byte, *callError) {
	req, err := c.sign(ctx, signingName, jsonContentType, target, body)
	if err != nil {
		return nil, &callError{key: "client: request", msg: err.Error()}
	}
	return c.roundTrip(req)
}

// roundTrip sends a signed request and reads its answer: a 200's body, or
// the error, classified.
func (c *caller) roundTrip(req *http.Request) ([]byte, *callError) {
	resp, err := c.tgt.client.Do(req)
	if err != nil {
		return nil, &callError{key: transportKey(err), msg: err.Error()}
	}
	c.buf.Reset()
	_, err = io.Copy(&c.buf, io.LimitReader(resp.Body, maxResponse+1))
	resp.Body.Close()
	if err != nil {
		return nil, &callError{key: "transport: reading the body", msg: err.Error()}
	}
	b := c.buf.Bytes()
	if len(b) > maxResponse {
		return nil, &callError{key: fmt.Sprintf("HTTP %d body too large", resp.StatusCode), msg: fmt.Sprintf("more than %d bytes", maxResponse)}
	}
	if resp.StatusCode != http.StatusOK {
		code, msg := errorCode(b)
		return nil, &callError{key: fmt.Sprintf("HTTP %d %s", resp.StatusCode, code), msg: msg, code: code}
	}
	return b, nil
}

// transportKey classifies a transport failure without the per-connection details.
func transportKey(err error) string {
	switch {
	case errors.Is(err, context.Canceled):
		return "transport: cancelled"
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "Client.Timeout"):
		return "transport: timeout"
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return "transport: connection closed"
	case strings.Contains(err.Error(), "connection refused"):
		return "transport: connection refused"
	case strings.Contains(err.Error(), "connection reset"):
		return "transport: connection reset"
	}
	return "transport: other"
}

// errorCode extracts the AWS error code and message from an error body in
// either protocol (awsJson1.1 {"__type": …} or awsQuery <ErrorResponse>).
func errorCode(b []byte) (code, msg string) {
	var j struct {
		Type     string `json:"__type"`
		Message  string `json:"message"`
		Message2 string `json:"Message"`
	}
	if json.Unmarshal(b, &j) == nil && j.Type != "" {
		if _, after, ok := strings.Cut(j.Type, "#"); ok {
			j.Type = after
		}
		return j.Type, j.Message + j.Message2
	}
	var x struct {
		Error struct {
			Code    string
			Message string
		}
	}
	if xml.Unmarshal(b, &x) == nil && x.Error.Code != "" {
		return x.Error.Code, x.Error.Message
	}
	s := string(b)
	if len(s) > 200 {
		s = s[:200]
	}
	return "-", strings.TrimSpace(s)
}
