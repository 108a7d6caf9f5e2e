package oauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/oauth"
)

// clock is a time that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// clocked serves sso-oidc from another node over the fixture's store whose
// time the test moves.
func (f *fixture) clocked() (*ssooidc.Client, *oauth.Service, *clock) {
	c := &clock{t: time.Now()}
	svc := oauth.New(f.srv.Store(), f.portal, oauth.Config{URL: f.url, Clock: c.Now})
	edge := &awsproto.Edge{Next: http.NotFoundHandler()}
	edge.Register(svc.API())
	ts := httptest.NewServer(edge)
	f.t.Cleanup(ts.Close)
	return ssooidc.New(ssooidc.Options{Region: "us-east-1", BaseEndpoint: aws.String(ts.URL), RetryMaxAttempts: 1}), svc, c
}

// Polling answers as RFC 8628 and AWS do: pending, slow_down when faster
// than the interval (which then grows by 5 s), access_denied once denied,
// expired_token after ten minutes. Starting authorizations is rate-limited
// per client.
func TestDevicePolling(t *testing.T) {
	f := newFixture(t)
	oidc, svc, clk := f.clocked()
	client := f.registerDevice("poller")
	start := func() *ssooidc.StartDeviceAuthorizationOutput {
		out, err := oidc.StartDeviceAuthorization(f.ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: client.ClientId,
			ClientSecret: client.ClientSecret, StartUrl: aws.String(startURL)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	poll := func(s *ssooidc.StartDeviceAuthorizationOutput) error {
		_, err := oidc.CreateToken(f.ctx, &ssooidc.CreateTokenInput{ClientId: client.ClientId, ClientSecret: client.ClientSecret,
			GrantType: aws.String(oauth.GrantDeviceCode), DeviceCode: s.DeviceCode})
		return err
	}
	s := start()
	for i, step := range []struct {
		wait time.Duration
		want func(error) bool
	}{
		{0, isErr[*types.AuthorizationPendingException]},
		{0, isErr[*types.AuthorizationPendingException]}, // botocore's second poll comes at once
		{0, isErr[*types.SlowDownException]},             // a third does not: interval 6 s
		{6 * time.Second, isErr[*types.AuthorizationPendingException]},
		{time.Second, isErr[*types.AuthorizationPendingException]}, // one ahead
		{time.Second, isErr[*types.SlowDownException]},             // two ahead: interval 11 s
		{11 * time.Second, isErr[*types.AuthorizationPendingException]},
		{11 * time.Second, isErr[*types.AuthorizationPendingException]},
	} {
		clk.Advance(step.wait)
		if err := poll(s); !step.want(err) {
			t.Fatalf("poll %d after %v: %v", i, step.wait, err)
		}
	}
	if err := svc.DenyDevice(f.ctx, *s.UserCode); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	if err := poll(s); !isErr[*types.AccessDeniedException](err) {
		t.Fatalf("poll after denial: %v", err)
	}
	if err := svc.ApproveDevice(f.ctx, *s.UserCode, f.signIn(f.alice)); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("approving a denied code: %v", err)
	}

	late := start()
	clk.Advance(10 * time.Minute)
	if err := poll(late); !isErr[*types.ExpiredTokenException](err) {
		t.Fatalf("poll after ten minutes: %v", err)
	}
	if _, err := svc.DeviceGrant(f.ctx, *late.UserCode); !errors.Is(err, oauth.ErrNotFound) {
		t.Fatalf("an expired code still shown: %v", err)
	}

	// Ten authorizations per client per window, then slow_down.
	clk.Advance(10 * time.Minute)
	for i := 0; i < 10; i++ {
		start()
	}
	_, err := oidc.StartDeviceAuthorization(f.ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: client.ClientId,
		ClientSecret: client.ClientSecret, StartUrl: aws.String(startURL)})
	if !isErr[*types.SlowDownException](err) {
		t.Fatalf("eleventh authorization in the window: %v", err)
	}
	clk.Advance(10 * time.Minute)
	start()
}

// PKCE is required, and S256 only: a request without a challenge, with
// the plain method, or without naming a method (which means plain) is
// refused; a code is redeemed only with its verifier, and a wrong one
// uses it up.
func TestPKCEDowngradeRejected(t *testing.T) {
	f := newFixture(t)
	client := f.registerPKCE()
	verifier, challenge := pkce("Zy9-xW8.vU7_tS6~")
	base := func() url.Values {
		return url.Values{"response_type": {"code"}, "client_id": {*client.ClientId}, "redirect_uri": {"http://127.0.0.1:5000/oauth/callback"},
			"state": {"s-1"}, "code_challenge_method": {"S256"}, "scopes": {"sso:account:access"}, "code_challenge": {challenge}}
	}
	for name, change := range map[string]func(url.Values){
		"plain method":     func(q url.Values) { q.Set("code_challenge_method", "plain"); q.Set("code_challenge", verifier) },
		"no method":        func(q url.Values) { q.Del("code_challenge_method") },
		"no challenge":     func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") },
		"short challenge":  func(q url.Values) { q.Set("code_challenge", "abc") },
		"method lowercase": func(q url.Values) { q.Set("code_challenge_method", "s256") },
	} {
		q := base()
		change(q)
		_, err := f.oauth.ParseAuthorize(f.ctx, q)
		var ae *oauth.AuthorizeError
		if !errors.As(err, &ae) || ae.Code != "invalid_request" {
			t.Fatalf("%s: %v", name, err)
		}
		// The client and redirect are trusted: the error goes back to it, with the state.
		back, _ := url.Parse(ae.RedirectURL)
		if back == nil || back.Host != "127.0.0.1:5000" || back.Query().Get("error") != "invalid_request" || back.Query().Get("state") != "s-1" {
			t.Fatalf("%s: redirect %q", name, ae.RedirectURL)
		}
	}

	sess := f.signIn(f.alice)
	code := func() string {
		req, err := f.oauth.ParseAuthorize(f.ctx, base())
		if err != nil {
			t.Fatal(err)
		}
		redirect, err := f.oauth.IssueCode(f.ctx, req, sess)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(redirect)
		return u.Query().Get("code")
	}
	redeem := func(c, v string) error {
		in := &ssooidc.CreateTokenInput{ClientId: client.ClientId, ClientSecret: client.ClientSecret, GrantType: aws.String("authorization_code"),
			Code: aws.String(c), RedirectUri: aws.String("http://127.0.0.1:5000/oauth/callback")}
		if v != "" {
			in.CodeVerifier = aws.String(v)
		}
		_, err := f.oidc().CreateToken(f.ctx, in)
		return err
	}
	c := code()
	if err := redeem(c, ""); !isErr[*types.InvalidRequestException](err) {
		t.Fatalf("redeemed without a verifier: %v", err)
	}
	if err := redeem(c, challenge); !isErr[*types.InvalidGrantException](err) {
		t.Fatalf("redeemed with the challenge as verifier (plain): %v", err)
	}
	if err := redeem(c, verifier); !isErr[*types.InvalidGrantException](err) {
		t.Fatalf("a code presented with a wrong verifier was still good: %v", err)
	}
	if err := redeem(code(), verifier); err != nil {
		t.Fatalf("a fresh code with its verifier: %v", err)
	}
}

// A code is redeemed once; presenting it again is refused and revokes the
// tokens it was exchanged for (RFC 6749 §4.1.2).
func TestAuthorizationCodeReplayRejected(t *testing.T) {
	f := newFixture(t)
	client := f.registerPKCE()
	verifier, challenge := pkce("replay-0123456789")
	req, err := f.oauth.ParseAuthorize(f.ctx, url.Values{"response_type": {"code"}, "client_id": {*client.ClientId},
		"redirect_uri": {"http://127.0.0.1:6000/oauth/callback"}, "code_challenge_method": {"S256"}, "code_challenge": {challenge}})
	if err != nil {
		t.Fatal(err)
	}
	redirect, err := f.oauth.IssueCode(f.ctx, req, f.signIn(f.alice))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(redirect)
	in := &ssooidc.CreateTokenInput{ClientId: client.ClientId, ClientSecret: client.ClientSecret, GrantType: aws.String("authorization_code"),
		Code: aws.String(u.Query().Get("code")), RedirectUri: aws.String("http://127.0.0.1:6000/oauth/callback"), CodeVerifier: aws.String(verifier)}
	tok, err := f.oidc().CreateToken(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.oidc().CreateToken(f.ctx, in); !isErr[*types.InvalidGrantException](err) {
		t.Fatalf("a code redeemed twice: %v", err)
	}
	within(t, 1250*time.Millisecond, "tokens of a replayed code", func() bool {
		_, err := f.portalAPI().ListAccounts(f.ctx, &sso.ListAccountsInput{AccessToken: tok.AccessToken})
		return isErr[*ssotypes.UnauthorizedException](err)
	})
	_, err = f.oidc().CreateToken(f.ctx, &ssooidc.CreateTokenInput{ClientId: client.ClientId, ClientSecret: client.ClientSecret,
		GrantType: aws.String("refresh_token"), RefreshToken: tok.RefreshToken})
	if !isErr[*types.InvalidGrantException](err) {
		t.Fatalf("refresh token of a replayed code: %v", err)
	}
	// Another client cannot redeem a code either, even once.
	other := f.registerPKCE()
	redirect, _ = f.oauth.IssueCode(f.ctx, req, f.signIn(f.alice))
	u, _ = url.Parse(redirect)
	_, err = f.oidc().CreateToken(f.ctx, &ssooidc.CreateTokenInput{ClientId: other.ClientId, ClientSecret: other.ClientSecret,
		GrantType: aws.String("authorization_code"), Code: aws.String(u.Query().Get("code")), RedirectUri: in.RedirectUri, CodeVerifier: in.CodeVerifier})
	if !isErr[*types.InvalidGrantException](err) {
		t.Fatalf("a code redeemed by another client: %v", err)
	}
}

// Refresh tokens rotate; presenting a used one again means it leaked: the
// family is revoked and the session it came from ended, with the role
// credentials taken through it.
func TestRefreshTokenReuseRevokesFamily(t *testing.T) {
	f := newFixture(t)
	client := f.registerDevice("refresher")
	first := f.deviceLogin(client, f.signIn(f.alice))
	refresh := func(c *ssooidc.RegisterClientOutput, token *string) (*ssooidc.CreateTokenOutput, error) {
		return f.oidc().CreateToken(f.ctx, &ssooidc.CreateTokenInput{ClientId: c.ClientId, ClientSecret: c.ClientSecret,
			GrantType: aws.String("refresh_token"), RefreshToken: token})
	}
	// Another client cannot use it (and that does not use it up).
	if _, err := refresh(f.registerDevice("thief"), first.RefreshToken); !isErr[*types.InvalidGrantException](err) {
		t.Fatalf("refresh by another client: %v", err)
	}
	second, err := refresh(client, first.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if *second.RefreshToken == *first.RefreshToken || *second.AccessToken == *first.AccessToken {
		t.Fatal("refresh did not rotate")
	}
	rc, err := f.roleCredentials(*second.AccessToken, f.account, "Admin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refresh(client, first.RefreshToken); !isErr[*types.InvalidGrantException](err) {
		t.Fatalf("a used refresh token worked again: %v", err)
	}
	within(t, 1250*time.Millisecond, "the family's access tokens", func() bool {
		_, err1 := f.portalAPI().ListAccounts(f.ctx, &sso.ListAccountsInput{AccessToken: second.AccessToken})
		_, err2 := f.portalAPI().ListAccounts(f.ctx, &sso.ListAccountsInput{AccessToken: first.AccessToken})
		return isErr[*ssotypes.UnauthorizedException](err1) && isErr[*ssotypes.UnauthorizedException](err2)
	})
	if _, err := refresh(client, second.RefreshToken); !isErr[*types.InvalidGrantException](err) {
		t.Fatalf("the family's newest refresh token still works: %v", err)
	}
	within(t, 1250*time.Millisecond, "role credentials of the session", func() bool {
		_, err := f.stsAs(rc).GetCallerIdentity(f.ctx, &sts.GetCallerIdentityInput{})
		return err != nil
	})

	// A legacy client (registered without scopes) gets no refresh token, and
	// an access token that lasts as AWS's do: 8 hours, never past the session.
	legacy, err := f.oidc().RegisterClient(f.ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-1700000000"), ClientType: aws.String("public")})
	if err != nil {
		t.Fatal(err)
	}
	tok := f.deviceLogin(legacy, f.signIn(f.alice))
	if tok.RefreshToken != nil || tok.ExpiresIn < 8*3600-5 || tok.ExpiresIn > 8*3600 {
		t.Fatalf("legacy token = %+v", tok)
	}
}

// User codes are short enough to guess, so codes that match nothing are
// counted per source address: after ten, even the right code is refused
// from there, while other sources are unaffected.
func TestDeviceCodeGuessingRateLimited(t *testing.T) {
	f := newFixture(t)
	client := f.registerDevice("victim")
	start, err := f.oidc().StartDeviceAuthorization(f.ctx, &ssooidc.StartDeviceAuthorizationInput{ClientId: client.ClientId,
		ClientSecret: client.ClientSecret, StartUrl: aws.String(startURL)})
	if err != nil {
		t.Fatal(err)
	}
	// The device page, reached through the edge like every web page.
	edge := &awsproto.Edge{Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := f.oauth.DeviceGrant(r.Context(), r.URL.Query().Get("user_code"))
		switch {
		case errors.Is(err, oauth.ErrThrottled):
			w.WriteHeader(http.StatusTooManyRequests)
		case errors.Is(err, oauth.ErrNotFound):
			w.WriteHeader(http.StatusNotFound)
		case err != nil:
			w.WriteHeader(http.StatusInternalServerError)
		}
	})}
	lookup := func(source, code string) int {
		r := httptest.NewRequest(http.MethodGet, "/device?user_code="+url.QueryEscape(code), nil)
		r.RemoteAddr = source + ":40000"
		w := httptest.NewRecorder()
		edge.ServeHTTP(w, r)
		return w.Code
	}
	guesses := []string{"BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "FFFF-FFFF", "GGGG-GGGG", "HHHH-HHHH", "JJJJ-JJJJ", "KKKK-KKKK", "LLLL-LLLL", "oops"}
	for _, g := range guesses {
		if g == *start.UserCode {
			continue
		}
		if got := lookup("198.51.100.7", g); got != http.StatusNotFound {
			t.Fatalf("guess %s answered %d", g, got)
		}
	}
	if got := lookup("198.51.100.7", *start.UserCode); got != http.StatusTooManyRequests {
		t.Fatalf("the right code after ten misses answered %d; want it refused", got)
	}
	if got := lookup("203.0.113.9", *start.UserCode); got != http.StatusOK {
		t.Fatalf("another source answered %d", got)
	}
	// Approving is throttled the same way.
	for i := 0; i < 10; i++ {
		f.oauth.DenyDevice(f.ctx, strings.Repeat("Q", 8))
	}
	if err := f.oauth.ApproveDevice(f.ctx, *start.UserCode, f.signIn(f.alice)); !errors.Is(err, oauth.ErrThrottled) {
		t.Fatalf("approval after ten misses: %v", err)
	}
}

// Only the redirect URIs a client registered receive codes (a loopback
// one with any port, RFC 8252 §7.3); any other is refused on a page, never
// redirected to, and a code is redeemed only with the redirect URI it was
// issued for.
func TestRedirectURIMismatchRejected(t *testing.T) {
	f := newFixture(t)
	loop := f.registerPKCE()
	web, err := f.oidc().RegisterClient(f.ctx, &ssooidc.RegisterClientInput{ClientName: aws.String("web"), ClientType: aws.String("public"),
		GrantTypes: []string{"authorization_code"}, RedirectUris: []string{"https://app.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	_, challenge := pkce("redirects-0123456789")
	ask := func(client *ssooidc.RegisterClientOutput, redirect string) error {
		_, err := f.oauth.ParseAuthorize(f.ctx, url.Values{"response_type": {"code"}, "client_id": {*client.ClientId}, "redirect_uri": {redirect},
			"code_challenge_method": {"S256"}, "code_challenge": {challenge}, "state": {"s"}})
		return err
	}
	for _, ok := range []string{"http://127.0.0.1/oauth/callback", "http://127.0.0.1:5555/oauth/callback", "http://127.0.0.1:1/oauth/callback"} {
		if err := ask(loop, ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	if err := ask(web, "https://app.example.com/cb"); err != nil {
		t.Errorf("exact match refused: %v", err)
	}
	for _, tc := range []struct {
		client   *ssooidc.RegisterClientOutput
		redirect string
	}{
		{loop, "http://127.0.0.1:5555/oauth/other"},
		{loop, "http://evil.example/oauth/callback"},
		{loop, "http://evil.example:5555/oauth/callback"},
		{loop, "http://localhost:5555/oauth/callback"},
		{loop, "https://127.0.0.1:5555/oauth/callback"},
		{loop, "http://127.0.0.2:5555/oauth/callback"},
		{loop, "http://127.0.0.1:5555/oauth/callback?next=https://evil.example"},
		{loop, "http://127.0.0.1:5555/oauth/callback#x"},
		{loop, "http://user@127.0.0.1:5555/oauth/callback"},
		{loop, ""},
		{web, "https://app.example.com:8443/cb"},
		{web, "https://app.example.com/cb/../evil"},
		{web, "https://app.example.com/cb?x=1"},
		{web, "https://evil.example/cb"},
		{web, "http://app.example.com/cb"},
	} {
		err := ask(tc.client, tc.redirect)
		var ae *oauth.AuthorizeError
		if !errors.As(err, &ae) || ae.RedirectURL != "" {
			t.Errorf("%s: %v (redirect %q); want an error shown on a page", tc.redirect, err, redirectOf(ae))
		}
	}
	// An unknown client is never redirected to either.
	_, err = f.oauth.ParseAuthorize(f.ctx, url.Values{"response_type": {"code"}, "client_id": {"nope"}, "redirect_uri": {"http://127.0.0.1/oauth/callback"},
		"code_challenge_method": {"S256"}, "code_challenge": {challenge}})
	var ae *oauth.AuthorizeError
	if !errors.As(err, &ae) || ae.RedirectURL != "" {
		t.Fatalf("unknown client: %v", err)
	}

	// The code is bound to the redirect URI it was issued for, port included.
	verifier, challenge := pkce("bound-0123456789")
	req, err := f.oauth.ParseAuthorize(f.ctx, url.Values{"response_type": {"code"}, "client_id": {*loop.ClientId},
		"redirect_uri": {"http://127.0.0.1:7000/oauth/callback"}, "code_challenge_method": {"S256"}, "code_challenge": {challenge}})
	if err != nil {
		t.Fatal(err)
	}
	redirect, err := f.oauth.IssueCode(f.ctx, req, f.signIn(f.alice))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(redirect)
	_, err = f.oidc().CreateToken(f.ctx, &ssooidc.CreateTokenInput{ClientId: loop.ClientId, ClientSecret: loop.ClientSecret,
		GrantType: aws.String("authorization_code"), Code: aws.String(u.Query().Get("code")), RedirectUri: aws.String("http://127.0.0.1:7001/oauth/callback"),
		CodeVerifier: aws.String(verifier)})
	if !isErr[*types.InvalidGrantException](err) {
		t.Fatalf("redeemed with another redirect URI: %v", err)
	}
}

func redirectOf(e *oauth.AuthorizeError) string {
	if e == nil {
		return ""
	}
	return e.RedirectURL
}
