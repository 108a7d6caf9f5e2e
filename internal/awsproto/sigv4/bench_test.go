package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"
)

// BenchmarkVerify verifies a typical SDK-signed awsJson1.1 POST with a warm
// key cache. The request is parsed from its wire form with http.ReadRequest,
// so it has the server-side shape.
func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"InstanceArn":"arn:aws:sso:::instance/ssoins-1234567890abcdef","PermissionSetArn":"arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef","MaxResults":100}`)
	req := newRequest(b, "POST", "https://sso.us-east-1.amazonaws.com/", body)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "SWBExternalService.ListAccountsForProvisionedPermissionSet")
	req.Header.Set("Amz-Sdk-Invocation-Id", "595559c4-8773-453c-84c9-a4524dbc6761")
	req.Header.Set("Amz-Sdk-Request", "attempt=1; max=3")
	creds := testCreds
	creds.SessionToken = testToken
	sdkSign(b, req, body, creds, "sso", t0, "")

	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		b.Fatal(err)
	}
	r, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		b.Fatal(err)
	}
	got, _ := io.ReadAll(r.Body)
	if !bytes.Equal(got, body) {
		b.Fatal("body mismatch")
	}

	v := newVerifier(t0)
	ctx := context.Background()
	if _, err := v.Verify(ctx, r, body); err != nil { // warms the key cache
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := v.Verify(ctx, r, body); err != nil {
			b.Fatal(err)
		}
	}
}
