package sigv4

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	stsReply = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
<GetCallerIdentityResult><Arn>arn:aws:iam::123456789012:user/alice</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account></GetCallerIdentityResult>
<ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
	orgReply = `{"Organization":{"Id":"o-exampleorgid","Arn":"arn:aws:organizations::123456789012:organization/o-exampleorgid","FeatureSet":"ALL"}}`
)

// awsReply answers the two operations these tests call with minimal valid bodies.
func awsReply(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DescribeOrganization") {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Write([]byte(orgReply))
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Write([]byte(stsReply))
}

func sdkConfig(token string) aws.Config {
	return aws.Config{
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testAKID, testSecret, token),
		RetryMaxAttempts: 1,
	}
}

// oneVerified asserts the server verified exactly one request, for service.
func oneVerified(t *testing.T, srv *verifyServer, service, token string) *Result {
	t.Helper()
	o := srv.outcomes()
	if len(o) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(o))
	}
	res := wantOK(t, o[0])
	if res.Service != service || res.AccessKeyID != testAKID || res.SessionToken != token {
		t.Fatalf("unexpected result %+v", res)
	}
	return res
}

func TestSTSClientGetCallerIdentity(t *testing.T) {
	srv := newVerifyServer(t, &Verifier{Lookup: testLookup})
	srv.setRespond(awsReply)
	for _, token := range []string{"", testToken} {
		c := sts.NewFromConfig(sdkConfig(token), func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
		if _, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		oneVerified(t, srv, "sts", token)
	}
}

func TestOrganizationsClientDescribeOrganization(t *testing.T) {
	srv := newVerifyServer(t, &Verifier{Lookup: testLookup})
	srv.setRespond(awsReply)
	c := organizations.NewFromConfig(sdkConfig(testToken), func(o *organizations.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	if _, err := c.DescribeOrganization(context.Background(), &organizations.DescribeOrganizationInput{}); err != nil {
		t.Fatalf("DescribeOrganization: %v", err)
	}
	oneVerified(t, srv, "organizations", testToken)
}

// TestSTSClientWrongSecretRejected makes sure the real-client path is not
// vacuous: the same client with a wrong secret is refused.
func TestSTSClientWrongSecretRejected(t *testing.T) {
	srv := newVerifyServer(t, &Verifier{Lookup: testLookup})
	srv.setRespond(awsReply)
	cfg := sdkConfig("")
	cfg.Credentials = credentials.NewStaticCredentialsProvider(testAKID, "not-the-secret", "")
	c := sts.NewFromConfig(cfg, func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	if _, err := c.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err == nil {
		t.Fatal("client call succeeded")
	}
	o := srv.outcomes()
	if len(o) != 1 {
		t.Fatalf("server saw %d requests", len(o))
	}
	wantKind(t, o[0].err, BadSignature)
}

// TestSTSPresignGetCallerIdentity uses the SDK's presign client (what
// aws-iam-authenticator / EKS tokens use): the awsQuery POST becomes a
// presigned GET.
func TestSTSPresignGetCallerIdentity(t *testing.T) {
	srv := newVerifyServer(t, &Verifier{Lookup: testLookup})
	c := sts.NewFromConfig(sdkConfig(testToken), func(o *sts.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	p, err := sts.NewPresignClient(c).PresignGetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	req := newRequest(t, p.Method, p.URL, nil)
	for k, vs := range p.SignedHeader {
		if k != "Host" {
			req.Header[k] = vs
		}
	}
	res := wantOK(t, srv.send(t, req))
	if !res.Presigned || res.Service != "sts" || res.SessionToken != testToken {
		t.Fatalf("unexpected result %+v", res)
	}
}

// TestAWSCLI drives the real AWS CLI (botocore's signer) when it is installed.
func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	bin, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	srv := newVerifyServer(t, &Verifier{Lookup: testLookup})
	srv.setRespond(awsReply)
	home := t.TempDir()
	for _, tc := range []struct {
		service string
		args    []string
	}{
		{"sts", []string{"sts", "get-caller-identity"}},
		{"organizations", []string{"organizations", "describe-organization"}},
		{"sts", []string{"sts", "get-caller-identity", "--query", "Account"}},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, bin, append(tc.args, "--endpoint-url", srv.URL, "--output", "json")...)
		cmd.Env = append(os.Environ(),
			"HOME="+home,
			"AWS_CONFIG_FILE="+home+"/config",
			"AWS_SHARED_CREDENTIALS_FILE="+home+"/credentials",
			"AWS_ACCESS_KEY_ID="+testAKID,
			"AWS_SECRET_ACCESS_KEY="+testSecret,
			"AWS_SESSION_TOKEN="+testToken,
			"AWS_REGION="+testRegion,
			"AWS_DEFAULT_REGION="+testRegion,
			"AWS_EC2_METADATA_DISABLED=true",
			"AWS_MAX_ATTEMPTS=1",
			"AWS_PAGER=",
		)
		out, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", tc.args, err, out)
		}
		oneVerified(t, srv, tc.service, testToken)
	}
}
