package federation_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/federation"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

const storeID = "d-1234567890"

// checkingIdP is a protocol whose settings must name an "Entity"; it
// records what it was asked to check.
type checkingIdP struct{ checked []string }

func (p *checkingIdP) Kind() string { return "saml" }

func (p *checkingIdP) CheckConfig(_ context.Context, _ *federation.Source, raw json.RawMessage) (json.RawMessage, error) {
	p.checked = append(p.checked, string(raw))
	var doc struct{ Entity string }
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Entity == "" {
		return nil, errors.New("Entity is required")
	}
	return raw, nil
}

func (p *checkingIdP) Register(*http.ServeMux) {}

func (p *checkingIdP) StartPath(src *federation.Source, next string) string {
	return "/saml/" + src.Name + "/start"
}

func newService(t *testing.T) (*federation.Service, *checkingIdP, store.Store) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, func(tx store.Tx) error {
		return tx.InsertInstance(ctx, store.Instance{ARN: "arn:aws:sso:::instance/ssoins-0123456789abcdef", IdentityStoreID: storeID,
			OwnerAccountID: "111111111111", Name: "atrium", Status: "ACTIVE", CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	s := federation.New(federation.Options{Store: db, BaseURL: "https://sso.example.com/"})
	p := &checkingIdP{}
	s.AddProtocol(p, http.NewServeMux())
	return s, p, db
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Code != code {
		t.Fatalf("error %v, want %s", err, code)
	}
}

func TestCreateSourceChecksEverything(t *testing.T) {
	s, p, _ := newService(t)
	ctx := context.Background()
	ok := json.RawMessage(`{"Entity":"https://idp.example.com"}`)
	for _, tc := range []struct {
		name string
		in   federation.SourceInput
		code string
	}{
		{"bad name", federation.SourceInput{Name: "no spaces", Kind: "saml", Config: ok}, "ValidationException"},
		{"unknown kind", federation.SourceInput{Name: "x", Kind: "ldap", Config: ok}, "ValidationException"},
		{"no config", federation.SourceInput{Name: "x", Kind: "saml"}, "ValidationException"},
		{"config the protocol refuses", federation.SourceInput{Name: "x", Kind: "saml", Config: json.RawMessage(`{}`)}, "ValidationException"},
		{"config not an object", federation.SourceInput{Name: "x", Kind: "saml", Config: json.RawMessage(`[1]`)}, "ValidationException"},
		{"bad domain", federation.SourceInput{Name: "x", Kind: "saml", Config: ok, EmailDomains: &[]string{"not a domain"}}, "ValidationException"},
		{"bad mfa", federation.SourceInput{Name: "x", Kind: "saml", Config: ok, MFA: new("sometimes")}, "ValidationException"},
	} {
		_, err := s.CreateSource(ctx, tc.in)
		if err == nil {
			t.Errorf("%s: created", tc.name)
			continue
		}
		var ae *apierr.Error
		if !errors.As(err, &ae) || ae.Code != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	src, err := s.CreateSource(ctx, federation.SourceInput{Name: "Okta", Kind: "saml", Config: ok,
		EmailDomains: &[]string{" Example.COM", "example.com", "eu.example.com"}, ClientSecret: new("s3cret")})
	if err != nil {
		t.Fatal(err)
	}
	if !src.Enabled || src.MFA != federation.MFATrust || src.JIT || strings.Join(src.EmailDomains, ",") != "example.com,eu.example.com" {
		t.Errorf("defaults and domains: %+v", src)
	}
	if !strings.Contains(p.checked[len(p.checked)-1], `"ClientSecret":"s3cret"`) {
		t.Errorf("the protocol did not see the secret: %s", p.checked)
	}
	if pub := federation.PublicConfig(src); strings.Contains(pub, "s3cret") || !strings.Contains(pub, `"ClientSecret":"********"`) {
		t.Errorf("public config shows the secret: %s", pub)
	}
	_, err = s.CreateSource(ctx, federation.SourceInput{Name: "OKTA", Kind: "saml", Config: ok})
	wantCode(t, err, "ConflictException")
	_, err = s.CreateSource(ctx, federation.SourceInput{Name: "Entra", Kind: "saml", Config: ok, EmailDomains: &[]string{"eu.example.com"}})
	wantCode(t, err, "ConflictException") // one domain routes to one IdP
}

func TestUpdateSourceKeepsWhatItDoesNotName(t *testing.T) {
	s, _, _ := newService(t)
	ctx := context.Background()
	_, err := s.CreateSource(ctx, federation.SourceInput{Name: "okta", Kind: "saml", Config: json.RawMessage(`{"Entity":"a"}`),
		ClientSecret: new("keep-me"), EmailDomains: &[]string{"example.com"}, JIT: new(true)})
	if err != nil {
		t.Fatal(err)
	}
	src, err := s.UpdateSource(ctx, federation.SourceInput{Name: "okta", Config: json.RawMessage(`{"Entity":"b"}`), MFA: new(federation.MFAAtrium)})
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]string
	json.Unmarshal(src.Config, &doc)
	if doc["Entity"] != "b" || doc["ClientSecret"] != "keep-me" || !src.JIT || src.MFA != federation.MFAAtrium || len(src.EmailDomains) != 1 {
		t.Errorf("after update: %+v %v", src, doc)
	}
	_, err = s.UpdateSource(ctx, federation.SourceInput{Name: "okta", Kind: "oidc"})
	wantCode(t, err, "ValidationException")
	_, err = s.UpdateSource(ctx, federation.SourceInput{Name: "nope", Enabled: new(false)})
	wantCode(t, err, "ResourceNotFoundException")
	src, err = s.UpdateSource(ctx, federation.SourceInput{Name: "okta", NewName: new("okta-prod"), EmailDomains: &[]string{}})
	if err != nil || src.Name != "okta-prod" || len(src.EmailDomains) != 0 {
		t.Fatalf("rename: %+v %v", src, err)
	}
	if _, err := s.SourceByName(ctx, "okta"); err == nil {
		t.Error("the old name still finds the source")
	}
}

// Removing a source never takes its users, or their assignments, with it.
func TestDeleteSourceWithUsersIsRefused(t *testing.T) {
	s, _, db := newService(t)
	ctx := context.Background()
	src, err := s.CreateSource(ctx, federation.SourceInput{Name: "okta", Kind: "saml", Config: json.RawMessage(`{"Entity":"a"}`)})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, func(tx store.Tx) error {
		return tx.InsertUser(ctx, store.User{IdentityStoreID: storeID, ID: "u1", UserName: "ann@example.com", Status: store.UserEnabled})
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserSource(ctx, storeID, "u1", "okta"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteSource(ctx, "okta"), "ConflictException")
	if n, err := s.SourceUserCount(ctx, src); err != nil || n != 1 {
		t.Fatalf("users: %d %v", n, err)
	}
	wantCode(t, s.SetUserSource(ctx, storeID, "u1", "nope"), "ResourceNotFoundException")
	wantCode(t, s.SetUserSource(ctx, storeID, "u-none", ""), "ResourceNotFoundException")
	if err := s.SetUserSource(ctx, storeID, "u1", ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSource(ctx, "okta"); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteSource(ctx, "okta"), "ResourceNotFoundException")
}

func TestEndpointsNameTheSignInURL(t *testing.T) {
	s, _, _ := newService(t)
	src, err := s.CreateSource(context.Background(), federation.SourceInput{Name: "okta", Kind: "saml", Config: json.RawMessage(`{"Entity":"a"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Endpoints(src)["SignInUrl"]; got != "https://sso.example.com/saml/okta/start" {
		t.Errorf("SignInUrl %q", got)
	}
}

func TestLocalNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                      "/start",
		"/start?x=1":            "/start?x=1",
		"/device?user_code=A-B": "/device?user_code=A-B",
		"https://evil.example/": "/start",
		"//evil.example":        "/start",
		"/\\evil.example":       "/start",
		"javascript:alert(1)":   "/start",
	} {
		if got := federation.LocalNext(in); got != want {
			t.Errorf("LocalNext(%q) = %q, want %q", in, got, want)
		}
	}
}
