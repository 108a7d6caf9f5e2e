// Package portal owns sign-in sessions and what a signed-in person may do:
// the accounts and permission sets they are entitled to, the temporary
// credentials they take for them, the portal API (`sso`) the AWS CLI and
// SDKs call with a bearer token, and the rule that every token and
// credential derived from a session is valid only while that session is
// live, its user exists and is enabled, and (for role credentials) the user
// still holds the permission set — checked at every use, on every node.
package portal

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/ttlcache"
)

var (
	// ErrNoSession: the session (or the token naming it) is unknown,
	// expired or revoked, or its user was disabled or deleted.
	ErrNoSession = errors.New("portal: no live sign-in session")
	// ErrNoAccess: the user does not hold that permission set in that
	// account, directly or through a group, or it is not provisioned there.
	ErrNoAccess = errors.New("portal: no access")
)

// DefaultSessionDuration is how long a sign-in session lasts unless the
// instance's portal.session-duration says otherwise (AWS's default).
const DefaultSessionDuration = 8 * time.Hour

// checkTTL bounds how stale a cached check may be: a session revoked, a
// user disabled or an assignment removed on any node takes effect
// everywhere within it.
const checkTTL = time.Second

// Config is what the service needs besides the store.
type Config struct {
	// SessionDuration reads portal.session-duration (package signin owns
	// the setting); nil means DefaultSessionDuration.
	SessionDuration func(ctx context.Context) (time.Duration, error)
	// Pager seals the portal API's next tokens.
	Pager *awsproto.Pager
	// Clock is the time; nil means time.Now.
	Clock func() time.Time
}

// Service is the portal domain.
type Service struct {
	store    store.Store
	pager    *awsproto.Pager
	duration func(ctx context.Context) (time.Duration, error)
	now      func() time.Time

	sessions  ttlcache.Cache[string, *Session]  // live sessions by id
	holds     ttlcache.Cache[string, struct{}]  // "<session>\x00<account>\x00<role>" the user was seen to hold
	roles     ttlcache.Cache[string, *heldRole] // "<session>\x00<account>\x00<permission set>" likewise
	instances sync.Map                          // identity store id -> instanceRef; instances outlive the process
}

// New builds the service over s (the audited store).
func New(s store.Store, cfg Config) *Service {
	svc := &Service{store: s, pager: cfg.Pager, duration: cfg.SessionDuration, now: cfg.Clock}
	if svc.now == nil {
		svc.now = time.Now
	}
	if svc.duration == nil {
		svc.duration = func(context.Context) (time.Duration, error) { return DefaultSessionDuration, nil }
	}
	clock := func() time.Time { return svc.now() }
	svc.sessions = ttlcache.Cache[string, *Session]{TTL: checkTTL, Now: clock}
	svc.holds = ttlcache.Cache[string, struct{}]{TTL: checkTTL, Now: clock}
	svc.roles = ttlcache.Cache[string, *heldRole]{TTL: checkTTL, Now: clock}
	return svc
}

// Session is a live sign-in session as the web pages and the APIs see it.
type Session struct {
	ID              string
	IdentityStoreID string
	UserID          string
	UserName        string
	Methods         []string
	SourceIP        string
	UserAgent       string
	CreatedAt       time.Time
	ExpiresAt       time.Time
	// AssertedTags are the session tags the user's identity provider
	// asserted at sign-in; the role credentials of the session carry them
	// (under the instance's configured attributes).
	AssertedTags map[string]string
}

// PrincipalARN names the session's person in audit records, as the
// identity store's resource ARN for a user.
func (s *Session) PrincipalARN() string { return store.UserARN(s.UserID) }

func toSession(r *store.SignInSession) *Session {
	return &Session{ID: r.ID, IdentityStoreID: r.IdentityStoreID, UserID: r.UserID, UserName: r.UserName, Methods: r.Methods,
		SourceIP: r.SourceIP, UserAgent: r.UserAgent, CreatedAt: r.CreatedAt, ExpiresAt: r.ExpiresAt, AssertedTags: r.Tags}
}

// StartSession creates a sign-in session for a user who has completed
// sign-in (password and MFA as required); the returned token is the
// cookie value, of which only the hash is kept. It lasts the instance's
// portal session duration. assertedTags are the session tags an identity
// provider asserted (nil for other sign-ins).
func (s *Service) StartSession(ctx context.Context, user *store.User, methods []string, sourceIP, userAgent string,
	assertedTags map[string]string) (string, *Session, error) {
	d, err := s.duration(ctx)
	if err != nil {
		return "", nil, err
	}
	now := s.now().UTC()
	token := ids.Hex(32)
	row := store.SignInSession{ID: ids.UUID(), TokenHash: creds.TokenHash(token), IdentityStoreID: user.IdentityStoreID, UserID: user.ID,
		UserName: user.UserName, Methods: methods, SourceIP: sourceIP, UserAgent: userAgent, CreatedAt: now, ExpiresAt: now.Add(d), Tags: assertedTags}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		// Read again here: the user may have been disabled since the password was checked.
		u, err := tx.GetUser(ctx, user.IdentityStoreID, user.ID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && u.Status != store.UserEnabled) {
			return ErrNoSession
		}
		if err != nil {
			return err
		}
		row.UserName = u.UserName
		return tx.InsertSignInSession(ctx, row)
	})
	if err != nil {
		return "", nil, err
	}
	return token, toSession(&row), nil
}

// SessionByToken returns the live session a cookie token names.
func (s *Service) SessionByToken(ctx context.Context, token string) (*Session, error) {
	if token == "" {
		return nil, ErrNoSession
	}
	var row *store.SignInSession
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		row, err = tx.GetSignInSessionByToken(ctx, creds.TokenHash(token))
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	return s.Session(ctx, row.ID)
}

// Session returns the session with id if it is live: not expired, not
// revoked, and its user exists and is enabled. The answer may be up to
// checkTTL old.
func (s *Service) Session(ctx context.Context, id string) (*Session, error) {
	now := s.now()
	if sess, ok := s.sessions.Get(id); ok && now.Before(sess.ExpiresAt) {
		return sess, nil
	}
	var sess *Session
	err := s.store.Read(ctx, func(tx store.Tx) error {
		row, err := tx.GetSignInSession(ctx, id)
		if err != nil {
			return err
		}
		if !row.RevokedAt.IsZero() || !now.Before(row.ExpiresAt) {
			return ErrNoSession
		}
		u, err := tx.GetUser(ctx, row.IdentityStoreID, row.UserID)
		if err != nil {
			return err
		}
		if u.Status != store.UserEnabled {
			return ErrNoSession
		}
		sess = toSession(row)
		return nil
	})
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, ErrNoSession) {
		s.sessions.Delete(id)
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	s.sessions.Put(id, sess)
	return sess, nil
}

// EndSession signs a session out: it and everything issued from it
// (tokens, role credentials) stop working. Ending a session that is
// already over is not an error; an unknown one is ErrNoSession.
func (s *Service) EndSession(ctx context.Context, sessionID string) error {
	err := s.store.Write(ctx, func(tx store.Tx) error { return tx.RevokeSignInSession(ctx, sessionID, s.now().UTC()) })
	s.sessions.Delete(sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSession
	}
	return err
}

// --- administration (atrium session list | revoke)

// ListSessions lists the instance's live sessions, of one user when userID
// is not "", a page of at most limit after nextToken.
func (s *Service) ListSessions(ctx context.Context, identityStoreID, userID string, limit int, nextToken *string) ([]Session, *string, error) {
	var out []Session
	var next *string
	err := s.store.Read(ctx, func(tx store.Tx) error {
		now := s.now()
		rows, n, err := awsproto.Page(s.pager, "sessions/"+identityStoreID+"/"+userID, nextToken, limit, apierr.Validation("The NextToken is invalid."),
			func(after string, limit int) ([]store.SignInSession, error) {
				return tx.ListSignInSessions(ctx, identityStoreID, userID, now, after, limit)
			}, func(r store.SignInSession) string { return r.ID })
		if err != nil {
			return err
		}
		next = n
		// A disabled user's sessions are not live: leave them out.
		enabled := map[string]bool{}
		for _, r := range rows {
			ok, seen := enabled[r.UserID]
			if !seen {
				u, err := tx.GetUser(ctx, r.IdentityStoreID, r.UserID)
				if err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				ok = err == nil && u.Status == store.UserEnabled
				enabled[r.UserID] = ok
			}
			if ok {
				out = append(out, *toSession(&r))
			}
		}
		return nil
	})
	return out, next, err
}

// RevokeSession ends one session of the instance (an administrator's act).
func (s *Service) RevokeSession(ctx context.Context, identityStoreID, sessionID string) error {
	err := s.store.Write(ctx, func(tx store.Tx) error {
		row, err := tx.GetSignInSession(ctx, sessionID)
		if err != nil {
			return err
		}
		if row.IdentityStoreID != identityStoreID {
			return store.ErrNotFound
		}
		return tx.RevokeSignInSession(ctx, sessionID, s.now().UTC())
	})
	s.sessions.Delete(sessionID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoSession
	}
	return err
}

// RevokeUserSessions ends every session of a user and says how many were live.
func (s *Service) RevokeUserSessions(ctx context.Context, identityStoreID, userID string) (int, error) {
	var n int
	err := s.store.Write(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.RevokeUserSignInSessions(ctx, identityStoreID, userID, s.now().UTC())
		return err
	})
	return n, err
}
