package oidc

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/atrium-sso/atrium/internal/federation"
	"github.com/atrium-sso/atrium/internal/store"
)

// What a person reads when a sign-in is refused: what to do, never why in
// detail (the log has that).
const (
	msgUnknownSource = "This identity provider is not available. Ask your administrator."
	msgUnreachable   = "The identity provider cannot be reached right now. Try again in a moment."
	msgStartAgain    = "This sign-in has expired or was started in another browser or tab. Start again."
	msgUsed          = "This sign-in was already completed. Start again."
	msgRefused       = "The identity provider did not complete the sign-in."
	msgNotVerified   = "The identity provider's answer could not be verified. Start again."
	msgNoEmail       = "The identity provider did not say which email address is yours."
	msgUnverified    = "Your email address is not verified at the identity provider."
)

// exchangeTimeout bounds the token and userinfo calls of one callback.
const exchangeTimeout = 15 * time.Second

// source finds the enabled OIDC source the URL names, or answers for it.
func (p *Protocol) source(rw http.ResponseWriter, r *http.Request) (*federation.Source, bool) {
	src, err := p.fed.SourceByName(r.Context(), r.PathValue("name"))
	if err != nil || src.Kind != federation.KindOIDC || !src.Enabled {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			p.log.Error("oidc: reading identity source", "name", r.PathValue("name"), "err", err)
		}
		p.fed.Fail(rw, r, http.StatusNotFound, msgUnknownSource)
		return nil, false
	}
	return src, true
}

// start sends the browser to the IdP with a fresh state, nonce and PKCE
// verifier, kept in the sealed flow cookie.
func (p *Protocol) start(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Cache-Control", "no-store")
	src, ok := p.source(rw, r)
	if !ok {
		return
	}
	rp, err := p.relyingParty(r.Context(), src)
	if err != nil {
		p.log.Warn("oidc: discovery", "source", src.Name, "err", err)
		p.fed.Fail(rw, r, http.StatusBadGateway, msgUnreachable)
		return
	}
	expires := p.now().Add(flowLifetime)
	f := &flow{Source: src.ID, State: random(), Nonce: random(), Verifier: oauth2.GenerateVerifier(),
		Next: federation.LocalNext(r.URL.Query().Get("next")), Expires: expires.Unix()}
	setFlowCookie(rw, p.seal.seal(f), expires)
	http.Redirect(rw, r, rp.oauth.AuthCodeURL(f.State, gooidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

func random() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// callback is where the IdP sends the browser back: the state must be this
// browser's, the code is redeemed with its verifier, and the ID token must
// be the IdP's, for us, fresh, and carry this browser's nonce.
func (p *Protocol) callback(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Cache-Control", "no-store")
	src, ok := p.source(rw, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	c, _ := r.Cookie(flowCookie)
	var value string
	if c != nil {
		value = c.Value
	}
	f, err := p.seal.open(value, p.now())
	// A callback whose state is not this browser's (CSRF, login fixation, a
	// stale tab) is refused and leaves the flow in progress alone.
	if err != nil || f.Source != src.ID || subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		p.log.Info("oidc: callback without a matching flow", "source", src.Name, "cookie", err == nil)
		p.fed.Fail(rw, r, http.StatusBadRequest, msgStartAgain)
		return
	}
	clearFlowCookie(rw)
	if e := q.Get("error"); e != "" {
		p.log.Info("oidc: the IdP refused the sign-in", "source", src.Name, "error", clip(e))
		p.fed.Fail(rw, r, http.StatusForbidden, msgRefused)
		return
	}
	rp, err := p.relyingParty(r.Context(), src)
	if err != nil {
		p.log.Warn("oidc: discovery", "source", src.Name, "err", err)
		p.fed.Fail(rw, r, http.StatusBadGateway, msgUnreachable)
		return
	}
	// RFC 9207: an IdP that names itself must be the one this flow went to
	// (a mix-up attack sends the browser back from another).
	if iss := q.Get("iss"); iss != "" && iss != rp.cfg.Issuer {
		p.log.Warn("oidc: callback from another issuer", "source", src.Name, "iss", clip(iss))
		p.fed.Fail(rw, r, http.StatusBadRequest, msgNotVerified)
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 2048 {
		p.fed.Fail(rw, r, http.StatusBadRequest, msgStartAgain)
		return
	}
	if fresh, err := p.useOnce(r.Context(), f); err != nil {
		p.log.Error("oidc: replay cache", "err", err)
		p.fed.Fail(rw, r, http.StatusServiceUnavailable, msgUnreachable)
		return
	} else if !fresh {
		p.log.Warn("oidc: state used twice", "source", src.Name)
		p.fed.Fail(rw, r, http.StatusBadRequest, msgUsed)
		return
	}

	ctx, cancel := context.WithTimeout(p.clientContext(r.Context()), exchangeTimeout)
	defer cancel()
	tok, err := rp.oauth.Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var refused *oauth2.RetrieveError
		if errors.As(err, &refused) {
			p.log.Warn("oidc: the IdP refused the code", "source", src.Name, "status", refused.Response.StatusCode, "error", clip(refused.ErrorCode))
			p.fed.Fail(rw, r, http.StatusBadRequest, msgStartAgain)
			return
		}
		p.log.Warn("oidc: token endpoint", "source", src.Name, "err", err)
		p.fed.Fail(rw, r, http.StatusBadGateway, msgUnreachable)
		return
	}
	id, msg, err := p.identity(ctx, rp, f, tok)
	if err != nil {
		p.log.Warn("oidc: ID token refused", "source", src.Name, "err", err)
		p.fed.Fail(rw, r, http.StatusForbidden, msg)
		return
	}
	p.fed.Complete(rw, r, src, *id, f.Next)
}

// useOnce marks the flow's state as used, on every node, until it expires.
func (p *Protocol) useOnce(ctx context.Context, f *flow) (bool, error) {
	sum := sha256.Sum256([]byte(f.State))
	var fresh bool
	err := p.fed.Store().Write(ctx, func(tx store.Tx) error {
		var err error
		fresh, err = tx.UseOnce(ctx, "oidc-state:"+hex.EncodeToString(sum[:]), time.Unix(f.Expires, 0))
		return err
	})
	return fresh, err
}

// identity verifies the ID token in tok and reads who it names. On error,
// msg is what the person is told.
func (p *Protocol) identity(ctx context.Context, rp *relyingParty, f *flow, tok *oauth2.Token) (id *federation.Identity, msg string, err error) {
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return nil, msgNotVerified, errors.New("the token response has no id_token")
	}
	idt, err := rp.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, msgNotVerified, err
	}
	// The nonce binds the token to this browser's flow: a token replayed
	// from another sign-in carries another nonce.
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return nil, msgNotVerified, errors.New("the ID token's nonce is not this flow's")
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return nil, msgNotVerified, err
		}
	}
	if idt.Subject == "" {
		return nil, msgNotVerified, errors.New("the ID token has no sub")
	}
	claims, err := decodeClaims(idt.Claims)
	if err != nil {
		return nil, msgNotVerified, err
	}
	// Entra ID and others send some claims at userinfo only.
	if _, has := claims[rp.cfg.EmailClaim]; !has && rp.provider.UserInfoEndpoint() != "" && tok.AccessToken != "" {
		info, err := rp.provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			return nil, msgNoEmail, fmt.Errorf("userinfo: %w", err)
		}
		more, err := decodeClaims(info.Claims)
		if err != nil {
			return nil, msgNoEmail, err
		}
		// OIDC Core §5.3.4: userinfo about another subject is not about this person.
		if s, _ := more["sub"].(string); s != idt.Subject {
			return nil, msgNotVerified, errors.New("userinfo names another subject")
		}
		for k, v := range more {
			if _, ok := claims[k]; !ok {
				claims[k] = v
			}
		}
	}
	if verified, present := claims["email_verified"]; present && !truthy(verified) {
		return nil, msgUnverified, errors.New("email_verified is false")
	}
	email, _ := claims[rp.cfg.EmailClaim].(string)
	email = strings.TrimSpace(email)
	if email == "" || len(email) > 320 || !printable(email) || strings.ContainsRune(email, ' ') {
		return nil, msgNoEmail, fmt.Errorf("claim %q is missing or not an address", rp.cfg.EmailClaim)
	}
	text := func(k string) string { s, _ := claims[k].(string); return strings.TrimSpace(s) }
	return &federation.Identity{
		Subject:     idt.Subject,
		Email:       email,
		DisplayName: text("name"),
		GivenName:   text("given_name"),
		FamilyName:  text("family_name"),
		Attributes:  attributes(claims),
	}, "", nil
}

func decodeClaims(into func(any) error) (map[string]any, error) {
	var raw json.RawMessage
	if err := into(&raw); err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var claims map[string]any
	if err := d.Decode(&claims); err != nil {
		return nil, fmt.Errorf("claims: %w", err)
	}
	return claims, nil
}

// truthy reads email_verified as providers send it: a boolean, or (AWS
// Cognito, some Entra ID tenants) the string "true".
func truthy(v any) bool {
	switch v := v.(type) {
	case bool:
		return v
	case string:
		return strings.EqualFold(v, "true")
	}
	return false
}

// attributes are the claims as lists of strings, for attribute mapping:
// objects are kept as their JSON.
func attributes(claims map[string]any) map[string][]string {
	out := make(map[string][]string, len(claims))
	for k, v := range claims {
		switch v := v.(type) {
		case []any:
			out[k] = make([]string, 0, len(v))
			for _, e := range v {
				out[k] = append(out[k], scalar(e))
			}
		default:
			out[k] = []string{scalar(v)}
		}
	}
	return out
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		if v {
			return "true"
		}
		return "false"
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// clip keeps what an IdP sent short enough for a log line.
func clip(s string) string {
	if len(s) > 100 {
		return s[:100]
	}
	return s
}
