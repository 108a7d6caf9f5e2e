package oauth

import (
	"context"
	"errors"
	"time"

	"github.com/atrium-sso/atrium/internal/audit"
	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/store"
)

type createTokenIn struct {
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret"`
	GrantType    string   `json:"grantType"`
	DeviceCode   string   `json:"deviceCode"`
	Code         string   `json:"code"`
	RefreshToken string   `json:"refreshToken"`
	Scope        []string `json:"scope"` // "has no effect", says the model
	RedirectURI  string   `json:"redirectUri"`
	CodeVerifier string   `json:"codeVerifier"`
}

type createTokenOut struct {
	AccessToken  string `json:"accessToken"`
	TokenType    string `json:"tokenType"`
	ExpiresIn    int    `json:"expiresIn"`
	RefreshToken string `json:"refreshToken,omitempty"`
}

func (s *Service) createToken(ctx context.Context, in *createTokenIn) (*createTokenOut, error) {
	switch in.GrantType {
	case GrantDeviceCode, GrantAuthorizationCode, GrantRefreshToken:
	default:
		return nil, unsupportedGrantType("Unsupported grant type: %s", in.GrantType)
	}
	c, err := s.client(ctx, in.ClientID, in.ClientSecret)
	if err != nil {
		return nil, err
	}
	if !allows(c, in.GrantType) {
		return nil, unauthorizedClient("The client is not registered for the %s grant", in.GrantType)
	}
	switch in.GrantType {
	case GrantDeviceCode:
		return s.redeemDeviceCode(ctx, c, in)
	case GrantAuthorizationCode:
		return s.redeemCode(ctx, c, in)
	default:
		return s.refresh(ctx, c, in)
	}
}

// issue mints the tokens of a grant in tx: an access token and, for a
// client that refreshes, a refresh token lasting the sign-in session.
// Neither outlives the session, and both fail as soon as it ends.
func (s *Service) issue(ctx context.Context, tx store.Tx, c *store.OAuthClient, sess *portal.Session, family string, now time.Time) (*createTokenOut, error) {
	life := legacyTokenLifetime
	if refreshable(c) {
		life = accessTokenLifetime
	}
	expires := now.Add(life)
	if sess.ExpiresAt.Before(expires) {
		expires = sess.ExpiresAt
	}
	out := &createTokenOut{AccessToken: ids.Hex(32), TokenType: "Bearer", ExpiresIn: int(expires.Sub(now) / time.Second)}
	err := tx.InsertOAuthToken(ctx, store.OAuthToken{Hash: creds.TokenHash(out.AccessToken), Kind: store.TokenAccess, ClientID: c.ID,
		SessionID: sess.ID, FamilyID: family, ExpiresAt: expires, CreatedAt: now})
	if err != nil || !refreshable(c) {
		return out, err
	}
	out.RefreshToken = ids.Hex(32)
	return out, tx.InsertOAuthToken(ctx, store.OAuthToken{Hash: creds.TokenHash(out.RefreshToken), Kind: store.TokenRefresh, ClientID: c.ID,
		SessionID: sess.ID, FamilyID: family, ExpiresAt: sess.ExpiresAt, CreatedAt: now})
}

// errRefreshRefused stops a refresh that must not issue tokens.
var errRefreshRefused = errors.New("oauth: refresh token refused")

// refresh rotates a refresh token: the one presented is used up and a new
// pair issued in its family. A refresh token presented a second time has
// leaked: its whole family is revoked, and the sign-in session it came
// from ended, with every token and credential issued from it.
func (s *Service) refresh(ctx context.Context, c *store.OAuthClient, in *createTokenIn) (*createTokenOut, error) {
	if in.RefreshToken == "" {
		return nil, invalidRequest("refreshToken is required")
	}
	hash := creds.TokenHash(in.RefreshToken)
	now := s.now().UTC()
	var out *createTokenOut
	var reused *store.OAuthToken
	err := s.store.Write(ctx, func(tx store.Tx) error {
		reused = nil
		var sess *portal.Session
		t, err := tx.UpdateOAuthToken(ctx, hash, func(t *store.OAuthToken) error {
			if t.Kind != store.TokenRefresh || t.ClientID != c.ID || !t.RevokedAt.IsZero() || !now.Before(t.ExpiresAt) {
				return errRefreshRefused
			}
			if !t.UsedAt.IsZero() {
				reused = t
				return errRefreshRefused
			}
			var err error
			if sess, err = s.portal.Session(ctx, t.SessionID); err != nil {
				return errRefreshRefused
			}
			t.UsedAt = now
			return nil
		})
		if err != nil {
			return err
		}
		audit.Identify(ctx, sess.PrincipalARN(), s.portal.AuditAccount(ctx, sess))
		out, err = s.issue(ctx, tx, c, sess, t.FamilyID, now)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, invalidGrant("Invalid refresh token provided")
	case errors.Is(err, errRefreshRefused) && reused != nil:
		bookkeeping := audit.Unrecorded(ctx)
		sess, _ := s.portal.Session(ctx, reused.SessionID) // for the record; nil when it ended already
		err = s.store.Write(bookkeeping, func(tx store.Tx) error {
			if _, err := tx.RevokeOAuthTokenFamily(ctx, reused.FamilyID, now); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, s.portal.AuditEvent(ctx, sess, "RevokeSession",
				map[string]string{"sessionId": reused.SessionID, "clientId": c.ID, "reason": "a used refresh token was presented again"}))
		})
		if err == nil {
			if err = s.portal.EndSession(bookkeeping, reused.SessionID); errors.Is(err, portal.ErrNoSession) {
				err = nil
			}
		}
		if err != nil {
			return nil, err
		}
		return nil, invalidGrant("Invalid refresh token provided")
	case errors.Is(err, errRefreshRefused):
		return nil, invalidGrant("Invalid refresh token provided")
	}
	return out, err
}
