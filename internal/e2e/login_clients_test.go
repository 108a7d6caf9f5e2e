package e2e

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/testenv"
)

// The logins of the real clients, with the person's part done in Chromium:
// the AWS CLI v2's device flow, the authorization code + PKCE flow as AWS
// CLI ≥ 2.22 runs it, and the SDKs' sso-session token refresh.

// cliDataPath makes an AWS_DATA_PATH folder whose endpoint rule sets for
// sso-oidc, sso and sts send every call to endpoint: how an AWS CLI older
// than AWS_ENDPOINT_URL (2.13) is pointed at Atrium. The parameters are the
// installed CLI's own; the rules are one rule.
func cliDataPath(t *testing.T, awsCLI, endpoint string) string {
	t.Helper()
	script, err := os.ReadFile(awsCLI)
	if err != nil {
		t.Fatal(err)
	}
	shebang, _, _ := strings.Cut(string(script), "\n")
	python := strings.Fields(strings.TrimPrefix(shebang, "#!"))
	if len(python) == 0 {
		t.Fatalf("%s has no interpreter line", awsCLI)
	}
	out, err := exec.Command(python[0], append(python[1:], "-c",
		"import os, awscli.botocore as b; print(os.path.join(os.path.dirname(b.__file__), 'data'))")...).Output()
	if err != nil {
		t.Fatalf("finding the AWS CLI's data folder: %v", err)
	}
	installed := strings.TrimSpace(string(out))
	dir := t.TempDir()
	for _, svc := range []string{"sso-oidc/2019-06-10", "sso/2019-06-10", "sts/2011-06-15"} {
		b, err := os.ReadFile(filepath.Join(installed, svc, "endpoint-rule-set-1.json"))
		if err != nil {
			t.Fatal(err)
		}
		var rs map[string]any
		if err := json.Unmarshal(b, &rs); err != nil {
			t.Fatal(err)
		}
		rs["rules"] = []any{map[string]any{"conditions": []any{}, "type": "endpoint",
			"endpoint": map[string]any{"url": endpoint, "properties": map[string]any{}, "headers": map[string]any{}}}}
		b, _ = json.Marshal(rs)
		if err := os.MkdirAll(filepath.Join(dir, svc), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, svc, "endpoint-rule-set-1.json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// ssoConfig is an AWS config file with an sso-session "atrium" and a profile
// for a role, as `aws configure sso` writes them; with an endpoint, the
// profile sends sso, sso-oidc and sts there through a [services] section
// (how SDKs from 2023 on are pointed at a self-hosted server).
func ssoConfig(t *testing.T, startURL, profile, account, role, endpoint string) string {
	t.Helper()
	body := fmt.Sprintf("[profile %s]\nsso_session = atrium\nsso_account_id = %s\nsso_role_name = %s\nregion = us-east-1\n\n"+
		"[sso-session atrium]\nsso_start_url = %s\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n",
		profile, account, role, startURL)
	if endpoint != "" {
		body = strings.Replace(body, "region = us-east-1\n\n", "region = us-east-1\nservices = atrium\n\n", 1) +
			"\n[services atrium]\n" + fmt.Sprintf("sso =\n  endpoint_url = %[1]s\nsso_oidc =\n  endpoint_url = %[1]s\nsts =\n  endpoint_url = %[1]s\n", endpoint)
	}
	p := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var userCodeURL = regexp.MustCompile(`https?://\S+\?user_code=[A-Z0-9-]+`)

// Debian's AWS CLI 2.9.19: `aws sso login --no-browser` (the device flow),
// the person approving in Chromium, then a command with the profile.
func TestAWSCLIv2DeviceLogin(t *testing.T) {
	chromium := requireBrowser(t)
	awsCLI := testenv.AWSCLIv2(t)
	s := newPortalScene(t)
	p := newPerson(t, chromium)
	otp := oneTimePassword(t, s.n, "ada")

	home := t.TempDir()
	env := clientEnv(t, s.n, false, "HOME="+home, "AWS_CONFIG_FILE="+ssoConfig(t, s.web+"/start", "ada-prod", s.prod, "Admin", ""),
		"AWS_DATA_PATH="+cliDataPath(t, awsCLI, s.n.URL), "AWS_PAGER=")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	login := exec.CommandContext(ctx, awsCLI, "sso", "login", "--no-browser", "--profile", "ada-prod")
	login.Env = env
	login.WaitDelay = 5 * time.Second
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	login.Stdout, login.Stderr = w, w
	if err := login.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var printed strings.Builder
	lines := bufio.NewScanner(r)
	verify := ""
	for verify == "" && lines.Scan() {
		printed.WriteString(lines.Text() + "\n")
		verify = userCodeURL.FindString(lines.Text())
	}
	if verify == "" {
		login.Wait()
		t.Fatalf("aws sso login printed no verification URL:\n%s\n--- node log\n%s", printed.String(), s.n.Log())
	}
	if !strings.HasPrefix(verify, s.web+"/device?user_code=") {
		t.Fatalf("verification URL %s is not the device page", verify)
	}
	userCode := strings.TrimPrefix(verify, s.web+"/device?user_code=")
	var approved struct {
		Approval struct{ Heading, Client, Code string }
		Text     string
	}
	p.do("approve", map[string]any{"url": verify, "signIn": map[string]any{"user": "ada", "password": otp, "newPassword": "Ada-Own-Passw0rd!"}}, &approved)
	if approved.Approval.Code != userCode || approved.Approval.Client != "botocore-client-atrium" || !strings.Contains(approved.Text, "You allowed access") {
		t.Fatalf("approval page %+v, then %q (code %s)", approved.Approval, approved.Text, userCode)
	}
	go func() {
		for lines.Scan() {
			printed.WriteString(lines.Text() + "\n")
		}
	}()
	if err := login.Wait(); err != nil {
		t.Fatalf("aws sso login: %v\n%s\n--- node log\n%s", err, printed.String(), s.n.Log())
	}

	who := runClient(t, time.Minute, env, awsCLI, "sts", "get-caller-identity", "--profile", "ada-prod", "--output", "json")
	var id struct{ Arn string }
	if who.err != nil || json.Unmarshal([]byte(who.stdout), &id) != nil ||
		!strings.HasPrefix(id.Arn, "arn:aws:sts::"+s.prod+":assumed-role/AWSReservedSSO_Admin_") || !strings.HasSuffix(id.Arn, "/ada") {
		t.Fatalf("aws sts get-caller-identity: %v\n%s", who.err, who.output())
	}
	p.noProblems()
}

// pkceLogin is the authorization code + PKCE login exactly as AWS CLI ≥
// 2.22 runs it (awscli/customizations/sso: SSOTokenFetcherAuth): register a
// public client for the code grant with a portless loopback redirect,
// listen on a loopback port, open <oidc>/authorize (with `scopes`), take
// the code at the callback, and redeem it with the verifier.
func pkceLogin(t *testing.T, s *portalScene, p *person, signIn map[string]any) (*ssooidc.RegisterClientOutput, *ssooidc.CreateTokenOutput) {
	t.Helper()
	oidc := ssooidc.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.web)})
	reg, err := oidc.RegisterClient(ctxT(t), &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-atrium"), ClientType: aws.String("public"),
		GrantTypes: []string{"authorization_code", "refresh_token"}, RedirectUris: []string{"http://127.0.0.1/oauth/callback"},
		IssuerUrl: aws.String(s.web + "/start"), Scopes: []string{"sso:account:access"}})
	if err != nil {
		t.Fatalf("RegisterClient: %v", err)
	}

	const unreserved = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
	raw := make([]byte, 64)
	rand.Read(raw)
	verifier := make([]byte, 64)
	for i, b := range raw {
		verifier[i] = unreserved[int(b)%len(unreserved)]
	}
	sum := sha256.Sum256(verifier)
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	state := ids.UUID()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirect := fmt.Sprintf("http://127.0.0.1:%d/oauth/callback", ln.Addr().(*net.TCPAddr).Port)
	callback := make(chan url.Values, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case callback <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>AWS CLI</title><h1>Request approved</h1>")
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	// The CLI's own order of parameters.
	authorize := s.web + "/authorize?" + strings.Join([]string{
		"response_type=code", "client_id=" + url.QueryEscape(*reg.ClientId), "redirect_uri=" + url.QueryEscape(redirect),
		"state=" + state, "code_challenge_method=S256", "scopes=" + url.QueryEscape("sso:account:access"), "code_challenge=" + challenge}, "&")
	var approved struct {
		Approval struct{ Heading, Client string }
		URL      string
	}
	p.do("approve", map[string]any{"url": authorize, "signIn": signIn}, &approved)
	if approved.Approval.Client != "botocore-client-atrium" || !strings.HasPrefix(approved.URL, redirect+"?") {
		t.Fatalf("approval %+v ended at %s", approved.Approval, approved.URL)
	}
	var q url.Values
	select {
	case q = <-callback:
	case <-time.After(10 * time.Second):
		t.Fatal("the loopback callback was never called")
	}
	if q.Get("state") != state || q.Get("code") == "" || q.Get("error") != "" {
		t.Fatalf("callback query %v", q)
	}
	tok, err := oidc.CreateToken(ctxT(t), &ssooidc.CreateTokenInput{GrantType: aws.String("authorization_code"), ClientId: reg.ClientId,
		ClientSecret: reg.ClientSecret, RedirectUri: aws.String(redirect), CodeVerifier: aws.String(string(verifier)), Code: aws.String(q.Get("code"))})
	if err != nil {
		t.Fatalf("CreateToken with the code: %v", err)
	}
	if aws.ToString(tok.AccessToken) == "" || aws.ToString(tok.RefreshToken) == "" {
		t.Fatalf("CreateToken = %+v", tok)
	}
	return reg, tok
}

// The code + PKCE login, then the SDKs' sso-session providers: the Go SDK
// and boto3 each find the cached token expired, refresh it with the refresh
// token (rotated, each using the one the other wrote) and obtain role
// credentials through GetRoleCredentials.
func TestPKCELoginThenSDKsRefreshThroughSSOSession(t *testing.T) {
	chromium := requireBrowser(t)
	s := newPortalScene(t)
	p := newPerson(t, chromium)
	otp := oneTimePassword(t, s.n, "ada")
	reg, tok := pkceLogin(t, s, p, map[string]any{"user": "ada", "password": otp, "newPassword": "Ada-Own-Passw0rd!"})

	creds, err := sso.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.web)}).GetRoleCredentials(ctxT(t),
		&sso.GetRoleCredentialsInput{AccessToken: tok.AccessToken, AccountId: aws.String(s.prod), RoleName: aws.String("ReadOnly")})
	if err != nil {
		t.Fatalf("GetRoleCredentials with the PKCE token: %v", err)
	}
	rc := creds.RoleCredentials
	if arn, err := callerWith(t, s.n, aws.Credentials{AccessKeyID: *rc.AccessKeyId, SecretAccessKey: *rc.SecretAccessKey, SessionToken: *rc.SessionToken}); err != nil ||
		!strings.Contains(arn, ":assumed-role/AWSReservedSSO_ReadOnly_") {
		t.Fatalf("GetCallerIdentity = %q, %v", arn, err)
	}

	// The token cache as `aws sso login` leaves it, with the access token
	// already past its time: each SDK must refresh before it can go on.
	home := t.TempDir()
	t.Setenv("HOME", home)
	cache := filepath.Join(home, ".aws", "sso", "cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum([]byte("atrium"))
	cacheFile := filepath.Join(cache, hex.EncodeToString(sum[:])+".json")
	write := func() {
		b, _ := json.Marshal(map[string]string{"startUrl": s.web + "/start", "region": "us-east-1", "accessToken": *tok.AccessToken,
			"expiresAt": time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05Z"), "clientId": *reg.ClientId, "clientSecret": *reg.ClientSecret,
			"registrationExpiresAt": time.Unix(reg.ClientSecretExpiresAt, 0).UTC().Format("2006-01-02T15:04:05Z"), "refreshToken": *tok.RefreshToken})
		if err := os.WriteFile(cacheFile, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	read := func() (access, refresh string) {
		var c struct{ AccessToken, RefreshToken string }
		b, _ := os.ReadFile(cacheFile)
		json.Unmarshal(b, &c)
		return c.AccessToken, c.RefreshToken
	}
	write()
	configFile := ssoConfig(t, s.web+"/start", "ada-dev", s.dev, "ReadOnly", s.n.URL)

	cfg, err := config.LoadDefaultConfig(ctxT(t), config.WithSharedConfigFiles([]string{configFile}), config.WithSharedCredentialsFiles([]string{os.DevNull}),
		config.WithSharedConfigProfile("ada-dev"))
	if err != nil {
		t.Fatal(err)
	}
	who, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
	if err != nil || !strings.HasPrefix(aws.ToString(who.Arn), "arn:aws:sts::"+s.dev+":assumed-role/AWSReservedSSO_ReadOnly_") {
		t.Fatalf("Go SDK through the sso-session: %v, %v", who, err)
	}
	goAccess, goRefresh := read()
	if goAccess == *tok.AccessToken || goRefresh == *tok.RefreshToken || goRefresh == "" {
		t.Fatal("the Go SDK did not refresh the token (or the refresh token did not rotate)")
	}

	py := requireBoto3(t)
	b, _ := os.ReadFile(cacheFile)
	var c map[string]any
	json.Unmarshal(b, &c)
	c["expiresAt"] = time.Now().Add(-time.Minute).UTC().Format("2006-01-02T15:04:05Z")
	b, _ = json.Marshal(c)
	os.WriteFile(cacheFile, b, 0o600)
	env := clientEnv(t, s.n, false, "HOME="+home, "AWS_CONFIG_FILE="+configFile)
	env = slices.DeleteFunc(env, func(kv string) bool { return strings.HasPrefix(kv, "AWS_ENDPOINT_URL=") })
	run := runClient(t, time.Minute, env, py, "-c",
		"import boto3; print(boto3.Session(profile_name='ada-dev').client('sts').get_caller_identity()['Arn'])")
	if run.err != nil || !strings.HasPrefix(strings.TrimSpace(run.stdout), "arn:aws:sts::"+s.dev+":assumed-role/AWSReservedSSO_ReadOnly_") {
		t.Fatalf("boto3 through the sso-session: %v\n%s", run.err, run.output())
	}
	if pyAccess, pyRefresh := read(); pyAccess == goAccess || pyRefresh == goRefresh {
		t.Fatal("boto3 did not refresh the token (or the refresh token did not rotate)")
	}

	// Signing out of the portal ends what the login issued.
	p.open(s.web + "/start")
	p.signOut()
	_, refresh := read()
	failsWithin(t, 2*time.Second, func() error {
		_, err := ssooidc.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(s.web)}).CreateToken(ctxT(t), &ssooidc.CreateTokenInput{
			GrantType: aws.String("refresh_token"), ClientId: reg.ClientId, ClientSecret: reg.ClientSecret, RefreshToken: aws.String(refresh)})
		return err
	})
	p.noProblems()
}
