package oauth

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/audit"
	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/store"
)

var (
	// ErrNotFound: no pending device authorization has that user code (it
	// never existed, expired, or was approved or denied already).
	ErrNotFound = errors.New("oauth: no pending device authorization with that code")
	// ErrThrottled: too many user codes that matched nothing came from
	// this source lately; try again later.
	ErrThrottled = errors.New("oauth: too many wrong codes")
)

type startDeviceIn struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	StartURL     string `json:"startUrl"`
}

type startDeviceOut struct {
	DeviceCode              string `json:"deviceCode"`
	UserCode                string `json:"userCode"`
	VerificationURI         string `json:"verificationUri"`
	VerificationURIComplete string `json:"verificationUriComplete"`
	ExpiresIn               int    `json:"expiresIn"`
	Interval                int    `json:"interval"`
}

// startDeviceAuthorization begins RFC 8628: a device code for the client
// to poll with and a user code for the person to approve at /device.
func (s *Service) startDeviceAuthorization(ctx context.Context, in *startDeviceIn) (*startDeviceOut, error) {
	c, err := s.client(ctx, in.ClientID, in.ClientSecret)
	if err != nil {
		return nil, err
	}
	if !allows(c, GrantDeviceCode) {
		return nil, unauthorizedClient("The client is not registered for the device code grant")
	}
	if !absoluteHTTP(in.StartURL) {
		return nil, invalidRequest("Invalid start URL")
	}
	startURL, _ := s.StartURL(in.StartURL)
	now := s.now().UTC()
	deviceCode := ids.Hex(32)
	d := store.DeviceAuthorization{DeviceCodeHash: creds.TokenHash(deviceCode), ClientID: c.ID, StartURL: startURL,
		Status: store.DevicePending, Interval: pollInterval, ExpiresAt: now.Add(deviceCodeLifetime), CreatedAt: now}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		ok, err := spend(ctx, tx, "oauth-device:"+c.ID, deviceStartsPerClient, now)
		if err != nil {
			return err
		}
		if !ok {
			return slowDown("Too many device authorizations for this client; try again later")
		}
		// Of 20^8 codes, one still in use is drawn rarely: draw again then.
		for attempt := 0; attempt < 5; attempt++ {
			d.UserCode = ids.UserCode()
			_, err := tx.GetDeviceAuthorizationByUserCode(ctx, d.UserCode)
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				return err
			}
		}
		return tx.InsertDeviceAuthorization(ctx, d)
	})
	if err != nil {
		return nil, err
	}
	verify := s.url + "/device"
	return &startDeviceOut{DeviceCode: deviceCode, UserCode: d.UserCode, VerificationURI: verify,
		VerificationURIComplete: verify + "?user_code=" + url.QueryEscape(d.UserCode),
		ExpiresIn:               int(deviceCodeLifetime / time.Second), Interval: pollInterval}, nil
}

// DeviceGrant is a pending device authorization as the approval page shows it.
type DeviceGrant struct {
	ClientName string
	UserCode   string
	Scopes     []string
	StartURL   string
	ExpiresAt  time.Time
}

// normalizeUserCode accepts what a person types: any case, with or
// without the dash, spaces around. Anything but a code's letters is no code.
func normalizeUserCode(code string) string {
	code = strings.ToUpper(strings.Join(strings.Fields(code), ""))
	code = strings.ReplaceAll(code, "-", "")
	if len(code) != 8 || strings.Trim(code, ids.UserCodeAlphabet) != "" {
		return ""
	}
	return code[:4] + "-" + code[4:]
}

// pendingByUserCode finds the pending, unexpired authorization a user code
// names. A code that names none counts against its source (where the
// request came from), and a source with too many such codes is refused
// before any lookup: guessing codes is how a device flow is attacked.
func (s *Service) pendingByUserCode(ctx context.Context, tx store.Tx, userCode string) (*store.DeviceAuthorization, error) {
	now := s.now()
	key := "oauth-user-code:" + sourceOf(ctx)
	over, err := exhausted(ctx, tx, key, userCodeMissesPerSource, now)
	if err != nil {
		return nil, err
	}
	if over {
		return nil, ErrThrottled
	}
	var d *store.DeviceAuthorization
	err = store.ErrNotFound
	if code := normalizeUserCode(userCode); code != "" {
		d, err = tx.GetDeviceAuthorizationByUserCode(ctx, code)
	}
	if err == nil && (d.Status != store.DevicePending || !now.Before(d.ExpiresAt)) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		if _, err := spend(ctx, tx, key, userCodeMissesPerSource, now); err != nil {
			return nil, err
		}
		return nil, ErrNotFound
	}
	return d, err
}

// DeviceGrant describes the pending authorization a user code names;
// ErrNotFound for an unknown, expired or settled one, ErrThrottled after
// too many misses from the request's source.
func (s *Service) DeviceGrant(ctx context.Context, userCode string) (*DeviceGrant, error) {
	var g *DeviceGrant
	var refused error
	// A miss is counted even though the lookup fails: the refusal leaves
	// the transaction as a value, and the transaction commits.
	err := s.store.Write(audit.Unrecorded(ctx), func(tx store.Tx) error {
		g, refused = nil, nil
		d, err := s.pendingByUserCode(ctx, tx, userCode)
		if isRefusal(err) {
			refused = err
			return nil
		}
		if err != nil {
			return err
		}
		c, err := tx.GetOAuthClient(ctx, d.ClientID)
		if errors.Is(err, store.ErrNotFound) {
			refused = ErrNotFound
			return nil
		}
		if err != nil {
			return err
		}
		g = &DeviceGrant{ClientName: c.Name, UserCode: d.UserCode, Scopes: c.Scopes, StartURL: d.StartURL, ExpiresAt: d.ExpiresAt}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return g, refused
}

// ApproveDevice approves the authorization a user code names on behalf of
// the session's user: the client polling with its device code gets tokens
// of that session.
func (s *Service) ApproveDevice(ctx context.Context, userCode string, sess *portal.Session) error {
	if _, err := s.portal.Session(ctx, sess.ID); err != nil {
		return err
	}
	return s.settleDevice(ctx, userCode, store.DeviceApproved, sess)
}

// DenyDevice refuses the authorization a user code names: the client's
// next poll answers access_denied.
func (s *Service) DenyDevice(ctx context.Context, userCode string) error {
	return s.settleDevice(ctx, userCode, store.DeviceDenied, nil)
}

// settleDevice approves (for sess) or denies a pending authorization, and
// records the person's decision: approving a device code is what a
// phishing attempt needs, so it is worth an audit event.
func (s *Service) settleDevice(ctx context.Context, userCode, status string, sess *portal.Session) error {
	sessionID, event := "", "DenyDeviceAuthorization"
	if sess != nil {
		sessionID, event = sess.ID, "ApproveDeviceAuthorization"
	}
	var refused error
	err := s.store.Write(audit.Unrecorded(ctx), func(tx store.Tx) error {
		refused = nil
		d, err := s.pendingByUserCode(ctx, tx, userCode)
		if isRefusal(err) {
			refused = err
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.UpdateDeviceAuthorization(ctx, d.DeviceCodeHash, func(d *store.DeviceAuthorization) error {
			d.Status, d.SessionID = status, sessionID
			return nil
		})
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, s.portal.AuditEvent(ctx, sess, event, map[string]string{"clientId": d.ClientID, "userCode": d.UserCode}))
	})
	if err != nil {
		return err
	}
	return refused
}

func isRefusal(err error) bool { return errors.Is(err, ErrNotFound) || errors.Is(err, ErrThrottled) }

// --- the device code grant

// errNotRedeemable stops a redemption whose device authorization is not
// (or no longer) approved; the poll is then recorded and answered apart.
var errNotRedeemable = errors.New("oauth: device authorization not redeemable")

func (s *Service) redeemDeviceCode(ctx context.Context, c *store.OAuthClient, in *createTokenIn) (*createTokenOut, error) {
	if in.DeviceCode == "" {
		return nil, invalidRequest("deviceCode is required")
	}
	hash := creds.TokenHash(in.DeviceCode)
	now := s.now().UTC()
	var out *createTokenOut
	err := s.store.Write(ctx, func(tx store.Tx) error {
		var sess *portal.Session
		d, err := tx.UpdateDeviceAuthorization(ctx, hash, func(d *store.DeviceAuthorization) error {
			if d.ClientID != c.ID || d.Status != store.DeviceApproved || !now.Before(d.ExpiresAt) {
				return errNotRedeemable
			}
			var err error
			if sess, err = s.portal.Session(ctx, d.SessionID); err != nil {
				return errNotRedeemable
			}
			d.Status, d.FamilyID = store.DeviceRedeemed, ids.UUID()
			return nil
		})
		if err != nil {
			return err
		}
		audit.Identify(ctx, sess.PrincipalARN(), s.portal.AuditAccount(ctx, sess))
		out, err = s.issue(ctx, tx, c, sess, d.FamilyID, now)
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, invalidGrant("Invalid device code provided")
	case errors.Is(err, errNotRedeemable):
		return nil, s.recordPoll(ctx, c, hash, now)
	}
	return out, err
}

// recordPoll answers a poll of a device authorization that cannot be
// redeemed, and records it: authorization_pending, slow_down (polled
// faster than its interval, which then grows by 5 s), access_denied,
// expired_token, or invalid_grant for a code redeemed already — whose
// tokens are then revoked, since a device code is used once.
func (s *Service) recordPoll(ctx context.Context, c *store.OAuthClient, hash string, now time.Time) error {
	var verdict error
	err := s.store.Write(audit.Unrecorded(ctx), func(tx store.Tx) error {
		replayed := ""
		_, err := tx.UpdateDeviceAuthorization(ctx, hash, func(d *store.DeviceAuthorization) error {
			switch {
			case d.ClientID != c.ID:
				verdict = invalidGrant("Invalid device code provided")
			case !now.Before(d.ExpiresAt):
				verdict = errExpiredToken
			case d.Status == store.DeviceDenied:
				verdict = errAccessDenied
			case d.Status == store.DeviceRedeemed:
				verdict, replayed = invalidGrant("Invalid device code provided"), d.FamilyID
			case d.Status == store.DeviceApproved:
				// Approved since the redemption was tried, or by a session that has ended since.
				verdict = errPending
				if _, err := s.portal.Session(ctx, d.SessionID); err != nil {
					verdict = errAccessDenied
				}
			default:
				// Polls are paid for at one per interval; a client may run one
				// ahead (botocore polls twice at once before it waits), more is haste.
				interval := time.Duration(d.Interval) * time.Second
				due := d.NextPollAt
				if due.Before(now) {
					due = now
				}
				if due.Sub(now) > interval {
					d.Interval += slowDownStep
					verdict = errSlowDown
				} else {
					d.NextPollAt, verdict = due.Add(interval), errPending
				}
			}
			return nil
		})
		if err != nil || replayed == "" {
			return err
		}
		_, err = tx.RevokeOAuthTokenFamily(ctx, replayed, now)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return invalidGrant("Invalid device code provided")
	}
	if err != nil {
		return err
	}
	return verdict
}
