package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// skewedSigner is the SDK's own signer on a machine whose clock is off.
type skewedSigner struct {
	skew time.Duration
	v4   *v4.Signer
}

func (s skewedSigner) SignHTTP(ctx context.Context, c aws.Credentials, r *http.Request, hash, service, region string, at time.Time, opts ...func(*v4.SignerOptions)) error {
	return s.v4.SignHTTP(ctx, c, r, hash, service, region, at.Add(s.skew), opts...)
}

// tamperingTransport changes the body after the SDK signed it, as a man in the middle would.
type tamperingTransport struct{}

func (tamperingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	b, _ := io.ReadAll(r.Body)
	b = bytes.Replace(b, []byte("Dev"), []byte("Eve"), 1)
	r.Body = io.NopCloser(bytes.NewReader(b))
	r.ContentLength = int64(len(b))
	return http.DefaultTransport.RoundTrip(r)
}

type failure struct {
	code   string
	status int
}

func failureOf(t *testing.T, err error) failure {
	t.Helper()
	if err == nil {
		t.Fatal("the call succeeded; it must not")
	}
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	f := failure{}
	if errors.As(err, &ae) {
		f.code = ae.ErrorCode()
	}
	if errors.As(err, &re) {
		f.status = re.HTTPStatusCode()
	}
	return f
}

// Each broken signature gets the error code that service's SDK expects, for
// both wire styles: awsQuery (STS) and awsJson1.1 (Organizations).
func TestSignatureAttacksGetAWSErrors(t *testing.T) {
	n := startNode(t, nodeOptions{})
	noRetry := func(o *sts.Options) { o.RetryMaxAttempts = 1 }
	noRetryOrg := func(o *organizations.Options) { o.RetryMaxAttempts = 1 }
	cases := []struct {
		name      string
		cfg       aws.Config
		stsOpt    func(*sts.Options)
		orgOpt    func(*organizations.Options)
		wantSTS   failure
		wantOrgs  failure
		orgsInput *organizations.CreateAccountInput
	}{
		{name: "WrongSecret", cfg: n.awsConfig(n.KeyID, strings.Repeat("x", 40)),
			wantSTS: failure{"SignatureDoesNotMatch", 403}, wantOrgs: failure{"InvalidSignatureException", 400}},
		{name: "UnknownKey", cfg: n.awsConfig("AKIAUNKNOWNUNKNOWN00", n.Secret),
			wantSTS: failure{"InvalidClientTokenId", 403}, wantOrgs: failure{"UnrecognizedClientException", 400}},
		{name: "DateThirtyMinutesOld", cfg: n.admin(),
			stsOpt:  func(o *sts.Options) { o.HTTPSignerV4 = skewedSigner{-30 * time.Minute, v4.NewSigner()} },
			orgOpt:  func(o *organizations.Options) { o.HTTPSignerV4 = skewedSigner{-30 * time.Minute, v4.NewSigner()} },
			wantSTS: failure{"SignatureDoesNotMatch", 403}, wantOrgs: failure{"InvalidSignatureException", 400}},
		{name: "DateThirtyMinutesAhead", cfg: n.admin(),
			stsOpt:  func(o *sts.Options) { o.HTTPSignerV4 = skewedSigner{30 * time.Minute, v4.NewSigner()} },
			orgOpt:  func(o *organizations.Options) { o.HTTPSignerV4 = skewedSigner{30 * time.Minute, v4.NewSigner()} },
			wantSTS: failure{"SignatureDoesNotMatch", 403}, wantOrgs: failure{"InvalidSignatureException", 400}},
		{name: "MissingAuthorization", cfg: aws.Config{Region: "us-east-1", Credentials: aws.AnonymousCredentials{}, BaseEndpoint: aws.String(n.URL)},
			wantSTS: failure{"MissingAuthenticationToken", 403}, wantOrgs: failure{"MissingAuthenticationTokenException", 400}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stsOpts := []func(*sts.Options){noRetry}
			orgOpts := []func(*organizations.Options){noRetryOrg}
			if tc.stsOpt != nil {
				stsOpts = append(stsOpts, tc.stsOpt)
				orgOpts = append(orgOpts, tc.orgOpt)
			}
			_, err := sts.NewFromConfig(tc.cfg, stsOpts...).GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
			if got := failureOf(t, err); got != tc.wantSTS {
				t.Errorf("sts: got %+v, want %+v (%v)", got, tc.wantSTS, err)
			}
			_, err = organizations.NewFromConfig(tc.cfg, orgOpts...).DescribeOrganization(ctxT(t), &organizations.DescribeOrganizationInput{})
			if got := failureOf(t, err); got != tc.wantOrgs {
				t.Errorf("organizations: got %+v, want %+v (%v)", got, tc.wantOrgs, err)
			}
		})
	}

	t.Run("TamperedBody", func(t *testing.T) {
		cfg := n.admin()
		cfg.HTTPClient = &http.Client{Transport: tamperingTransport{}}
		c := organizations.NewFromConfig(cfg, noRetryOrg)
		_, err := c.CreateAccount(ctxT(t), &organizations.CreateAccountInput{AccountName: aws.String("Dev"), Email: aws.String("dev@example.com")})
		if got := failureOf(t, err); got != (failure{"InvalidSignatureException", 400}) {
			t.Fatalf("tampered body: %+v (%v)", got, err)
		}
		list, _ := n.organizations().ListCreateAccountStatus(ctxT(t), &organizations.ListCreateAccountStatusInput{})
		if len(list.CreateAccountStatuses) != 0 {
			t.Fatalf("a tampered request took effect: %+v", list.CreateAccountStatuses)
		}
	})
	if strings.Contains(n.Log(), n.Secret) {
		t.Fatal("the secret access key appears in the server log")
	}
}

// signedPost sends a body to the node signed by the SDK signer, bypassing the SDK's serializers.
func signedPost(t *testing.T, n *node, target, body string) (int, map[string]any, http.Header) {
	t.Helper()
	return signedPostFor(t, n, "organizations", target, body)
}

func signedPostFor(t *testing.T, n *node, service, target, body string) (int, map[string]any, http.Header) {
	t.Helper()
	return signedPostAs(t, n, aws.Credentials{AccessKeyID: n.KeyID, SecretAccessKey: n.Secret}, service, target, body)
}

// signedPostAs is signedPostFor with other credentials (a role session's).
func signedPostAs(t *testing.T, n *node, creds aws.Credentials, service, target, body string) (int, map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, n.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if target != "" {
		req.Header.Set("X-Amz-Target", target)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("response is not JSON (%d): %s", resp.StatusCode, raw)
	}
	return resp.StatusCode, out, resp.Header
}

// Protocol errors are AWS's, with HTTP 400, and never an HTML page or a 500.
func TestProtocolErrors(t *testing.T) {
	n := startNode(t, nodeOptions{})
	cases := []struct {
		name, target, body, code string
	}{
		{"UnknownOperation", "AWSOrganizationsV20161128.LaunchRockets", `{}`, "UnknownOperationException"},
		{"UnknownService", "NoSuchService.Describe", `{}`, "UnknownOperationException"},
		{"MalformedJSON", "AWSOrganizationsV20161128.DescribeAccount", `{"AccountId":`, "SerializationException"},
		{"NotAnObject", "AWSOrganizationsV20161128.DescribeAccount", `["123456789012"]`, "SerializationException"},
		{"WrongType", "AWSOrganizationsV20161128.DescribeAccount", `{"AccountId":123456789012}`, "SerializationException"},
		{"MissingRequired", "AWSOrganizationsV20161128.DescribeAccount", `{}`, "ValidationException"},
		{"PatternViolated", "AWSOrganizationsV20161128.DescribeAccount", `{"AccountId":"12345"}`, "ValidationException"},
		{"RangeViolated", "AWSOrganizationsV20161128.ListAccounts", `{"MaxResults":0}`, "ValidationException"},
		{"EnumViolated", "AWSOrganizationsV20161128.ListChildren", `{"ParentId":"r-abcd","ChildType":"USER"}`, "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body, h := signedPost(t, n, tc.target, tc.body)
			if status != 400 || body["__type"] != tc.code || h.Get("x-amzn-ErrorType") != tc.code || body["message"] == "" {
				t.Fatalf("got %d %v (x-amzn-ErrorType %q); want 400 %s", status, body, h.Get("x-amzn-ErrorType"), tc.code)
			}
			if h.Get("x-amzn-RequestId") == "" {
				t.Fatal("no x-amzn-RequestId")
			}
		})
	}
	// The SDK sees a model violation the same way.
	_, err := n.organizations().DescribeAccount(ctxT(t), &organizations.DescribeAccountInput{AccountId: aws.String("12345")})
	if got := failureOf(t, err); got != (failure{"ValidationException", 400}) {
		t.Fatalf("SDK DescribeAccount(12345): %+v (%v)", got, err)
	}
}

// A signature made for one service or region is not accepted by another.
func TestSignatureScopedElsewhereIsRefused(t *testing.T) {
	n := startNode(t, nodeOptions{args: []string{"--region", "eu-west-1"}})
	body := `{}`
	for _, tc := range []struct{ service, region string }{{"sts", "us-east-1"}, {"organizations", "ap-south-1"}} {
		req, _ := http.NewRequest(http.MethodPost, n.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "AWSOrganizationsV20161128.DescribeOrganization")
		sum := sha256.Sum256([]byte(body))
		v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: n.KeyID, SecretAccessKey: n.Secret}, req,
			hex.EncodeToString(sum[:]), tc.service, tc.region, time.Now())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 || resp.Header.Get("x-amzn-ErrorType") != "InvalidSignatureException" {
			t.Fatalf("signed for %s in %s: %d %s", tc.service, tc.region, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
		}
	}
	// The configured region works, and so does us-east-1 where SDKs sign global services.
	for _, region := range []string{"eu-west-1", "us-east-1"} {
		cfg := n.admin()
		cfg.Region = region
		if _, err := organizations.NewFromConfig(cfg).DescribeOrganization(ctxT(t), &organizations.DescribeOrganizationInput{}); err != nil {
			t.Fatalf("region %s: %v", region, err)
		}
	}
}

// Exceptions whose model has a RequestId member carry it, whether the edge
// (model validation) or the service raised them.
func TestModelledRequestIdOnEveryException(t *testing.T) {
	n := startNode(t, nodeOptions{})
	status, body, h := signedPostFor(t, n, "identitystore", "AWSIdentityStore.ListUsers", `{"IdentityStoreId":"d-0123456789","MaxResults":200}`)
	if status != 400 || body["__type"] != "ValidationException" || body["RequestId"] != h.Get("x-amzn-RequestId") {
		t.Fatalf("edge-raised ValidationException: %d %v (request id %s)", status, body, h.Get("x-amzn-RequestId"))
	}
	status, body, h = signedPostFor(t, n, "identitystore", "AWSIdentityStore.ListUsers", `{"IdentityStoreId":"d-0123456789"}`)
	if status != 400 || body["__type"] != "ResourceNotFoundException" || body["RequestId"] != h.Get("x-amzn-RequestId") || body["ResourceType"] != "IDENTITY_STORE" {
		t.Fatalf("service-raised ResourceNotFoundException: %d %v", status, body)
	}
	// Organizations' exceptions have no such member, and get none.
	_, body, _ = signedPost(t, n, "AWSOrganizationsV20161128.DescribeAccount", `{}`)
	if _, has := body["RequestId"]; has {
		t.Fatalf("RequestId added where the model has none: %v", body)
	}
}
