// Package signin is how people prove who they are to Atrium's built-in
// directory: passwords (argon2id behind a bounded pool, AWS's password
// policy, reuse prevention, one-time passwords), throttling of failed
// attempts per user name and per source address, MFA with authenticator
// apps (TOTP) and WebAuthn, and the instance's sign-in settings. The web
// pages call it; sessions are the portal's.
package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

var (
	// ErrBadCredentials: unknown user, wrong password, disabled user or a
	// user without a password; one answer, after the same work, for all.
	ErrBadCredentials = errors.New("signin: the user name or password is not correct")
	// ErrBadCode: a TOTP code or WebAuthn response that does not verify
	// (wrong, expired, or used before).
	ErrBadCode = errors.New("signin: the MFA code or security key response is not valid")
	// ErrUserNotFound: an operation on a user id that is not in the store.
	ErrUserNotFound = errors.New("signin: no such user")
	// ErrDeviceLimit: the user has as many devices of that kind as allowed
	// (2 authenticator apps, 6 security keys, as on AWS).
	ErrDeviceLimit = errors.New("signin: the user has the most MFA devices of this kind allowed")
	// ErrNoDevice: the user has no such MFA device (none of the kind asked
	// for, or none with the id given).
	ErrNoDevice = errors.New("signin: the user has no such MFA device")
	// ErrWebAuthnUnavailable: the server's URL is an IP address, which
	// browsers refuse as a WebAuthn relying party; use a host name.
	ErrWebAuthnUnavailable = errors.New("signin: WebAuthn needs the server URL to have a host name, not an IP address")
)

// Device limits per user, as on AWS.
const (
	MaxTOTPDevices     = 2
	MaxWebAuthnDevices = 6
)

// Audit event sources: sign-in events as AWS logs them, and the user's own
// changes to their credentials (AWS's identity store directory).
const (
	SigninEventSource    = "signin.amazonaws.com"
	DirectoryEventSource = "sso-directory.amazonaws.com"
)

// Service checks passwords and MFA and keeps the sign-in settings.
type Service struct {
	store    store.Store
	now      func() time.Time
	hasher   *hasher
	dummy    string // PHC hash nobody knows the password of, for unknown users
	keys     *keys
	webauthn *webauthn.WebAuthn // nil when the URL's host is an IP address
}

// Options configure a Service.
type Options struct {
	// URL is the server's public base URL: WebAuthn's relying party id is
	// its host, and its origin the one origin responses may come from.
	URL string
	// Workers bounds concurrent argon2id computations (0: one per core).
	Workers int
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// New builds the service over s (the audited store). The first node to
// start makes the sign-in key (see keys.go).
func New(ctx context.Context, s store.Store, o Options) (*Service, error) {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	k, err := loadKeys(ctx, s)
	if err != nil {
		return nil, err
	}
	svc := &Service{store: s, now: o.Now, hasher: newHasher(owasp, o.Workers), keys: k}
	if svc.dummy, err = svc.hasher.hash(ctx, ids.Hex(32)); err != nil {
		return nil, err
	}
	if svc.webauthn, err = newWebAuthn(o.URL); err != nil {
		return nil, err
	}
	return svc, nil
}

// MFAStep is what a sign-in needs after the password.
type MFAStep int

const (
	MFANone   MFAStep = iota // signed in
	MFAVerify                // prove a registered device (VerifyTOTP or the WebAuthn login ceremony)
	MFAEnroll                // MFA is required and the user has no device: register one
)

// Attempt is a password that checked out.
type Attempt struct {
	User               *store.User
	MustChangePassword bool    // a one-time password: change it (ChangePassword) before anything else
	MFA                MFAStep // what comes next
	HasTOTP            bool
	HasWebAuthn        bool
}

// CheckOption adds what the caller knows about the sign-in's context.
type CheckOption func(*checkOptions)

type checkOptions struct{ deviceToken, sourceIP, workflow string }

// FromDevice passes the remembered-device token the browser holds (see
// RememberDevice); with mfa.prompt new-context it spares that browser MFA.
func FromDevice(token string) CheckOption {
	return func(o *checkOptions) { o.deviceToken = token }
}

// FromSource gives the address a second factor or a sign-in came from,
// for its audit record.
func FromSource(ip string) CheckOption {
	return func(o *checkOptions) { o.sourceIP = ip }
}

// InWorkflow ties the audit records of one sign-in together (their
// AuthWorkflowID, as AWS's sign-in events have it).
func InWorkflow(id string) CheckOption {
	return func(o *checkOptions) { o.workflow = id }
}

func checkOpts(opts []CheckOption) checkOptions {
	var o checkOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// CheckPassword verifies a user's password. Unknown user, wrong password
// and disabled user all answer ErrBadCredentials after the same work (one
// argon2id computation, against a dummy hash when there is no real one).
// ErrThrottled when the user name or the source address has failed too
// often; then nothing is checked. Success and failure are audit events.
func (s *Service) CheckPassword(ctx context.Context, identityStoreID, userName, password, sourceIP string, opts ...CheckOption) (*Attempt, error) {
	o := checkOpts(opts)
	userKey, sourceKey := userThrottleKey(identityStoreID, userName), sourceThrottleKey(sourceIP)
	// Refused before queueing for a hash slot: a flood of attempts on a
	// locked name costs a read each.
	if err := s.checkThrottle(ctx, s.now(), userKey, sourceKey); err != nil {
		return nil, err
	}
	// The throttle check, the hash and the count of the outcome share one
	// slot, so a burst of guesses cannot all pass the check before the
	// first failure is counted: past a limit, at most one guess per other
	// slot gets through.
	release, err := s.hasher.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	now := s.now()
	var (
		locked  bool
		user    *store.User
		pw      *store.Password
		devices []store.MFADevice
		set     Settings
	)
	err = s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		if locked, err = throttled(ctx, tx, now, userKey, sourceKey); err != nil || locked {
			return err
		}
		if set, _, err = readSettings(ctx, tx); err != nil {
			return err
		}
		if user, err = tx.GetUserByName(ctx, identityStoreID, userName); errors.Is(err, store.ErrNotFound) {
			user = nil
			return nil
		} else if err != nil {
			return err
		}
		if pw, err = tx.GetPassword(ctx, identityStoreID, user.ID); errors.Is(err, store.ErrNotFound) {
			pw = nil
		} else if err != nil {
			return err
		}
		devices, err = tx.ListMFADevices(ctx, identityStoreID, user.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	if locked {
		return nil, ErrThrottled
	}
	// A user of an external identity source signs in there, never with a password here.
	hash, usable := s.dummy, user != nil && pw != nil && user.Status == store.UserEnabled && user.SourceID == ""
	if usable {
		hash = pw.Hash
	}
	ok, stale, err := s.hasher.verifyHeld(hash, password)
	if err != nil {
		return nil, err
	}
	ev := signinEvent{userName: userName, sourceIP: sourceIP, credential: CredentialPassword, workflow: o.workflow}
	if user != nil {
		ev.userID = user.ID
	}
	if !ok || !usable {
		// The count outlives the caller's context: hanging up must not
		// spare an attacker the count.
		err := s.store.Write(context.WithoutCancel(ctx), func(tx store.Tx) error {
			if err := tx.AppendAudit(ctx, ev.challenge(now, false)); err != nil {
				return err
			}
			return recordFailure(ctx, tx, now, ev, userKey, sourceKey)
		})
		if err != nil {
			return nil, err
		}
		return nil, ErrBadCredentials
	}
	var rehash string
	if stale {
		rehash = s.hasher.hashHeld(password)
	}
	err = s.store.Write(context.WithoutCancel(ctx), func(tx store.Tx) error {
		if err := clearFailures(ctx, tx, now, userKey); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, ev.challenge(now, false)); err != nil {
			return err
		}
		if rehash != "" {
			upgraded := *pw
			upgraded.Hash = rehash
			if err := tx.PutPassword(ctx, upgraded); err != nil {
				return err
			}
		}
		return tx.AppendAudit(ctx, ev.record(now, ""))
	})
	if err != nil {
		return nil, err
	}
	a := &Attempt{User: user, MustChangePassword: pw.MustChange}
	for _, d := range devices {
		a.HasTOTP = a.HasTOTP || d.Type == store.MFATOTP
		a.HasWebAuthn = a.HasWebAuthn || d.Type == store.MFAWebAuthn
	}
	a.MFA = s.mfaStep(set, user, len(devices) > 0, o.deviceToken, credentialEpoch(pw, devices), now)
	return a, nil
}

// mfaStep decides what a user who gave the right password must do next;
// epoch is the state of the user's credentials (credentialEpoch).
func (s *Service) mfaStep(set Settings, u *store.User, hasDevice bool, deviceToken, epoch string, now time.Time) MFAStep {
	switch {
	case set.MFAMode == MFAOff:
		return MFANone
	case !hasDevice && set.MFAMode == MFARequired:
		return MFAEnroll
	case !hasDevice:
		return MFANone
	case set.MFAPrompt == PromptNewContext && s.rememberedDevice(deviceToken, u.IdentityStoreID, u.ID, epoch, now):
		return MFANone
	}
	return MFAVerify
}

// recordFailure counts a failure for the user name and the source (""
// for none) and records it.
func recordFailure(ctx context.Context, tx store.Tx, now time.Time, ev signinEvent, userKey, sourceKey string) error {
	locked, err := countFailure(ctx, tx, now, userKey, sourceKey)
	if err != nil {
		return err
	}
	msg := "Authentication failed"
	if locked {
		msg += "; further attempts are refused for a while"
	}
	return tx.AppendAudit(ctx, ev.record(now, msg))
}

// secondFactor decides one MFA attempt of u in a transaction that first
// locks the user's throttle row, so that concurrent guesses are decided
// one at a time, each failure counted before the next is looked at. check
// runs in that transaction and answers nil, ErrBadCode for a proof that
// fails, or another error. Both outcomes are audited. A disabled user gets
// ErrBadCredentials.
func (s *Service) secondFactor(ctx context.Context, u *store.User, credential string, o checkOptions, check func(tx store.Tx) error) error {
	if u.Status != store.UserEnabled { // disabled between password and MFA
		return ErrBadCredentials
	}
	now := s.now()
	userKey := userThrottleKey(u.IdentityStoreID, u.UserName)
	// Refused before the transaction: a flood on a locked user costs a read each.
	if err := s.checkThrottle(ctx, now, userKey); err != nil {
		return err
	}
	ev := signinEvent{userName: u.UserName, userID: u.ID, credential: credential, sourceIP: o.sourceIP, workflow: o.workflow}
	var outcome error
	err := s.store.Write(context.WithoutCancel(ctx), func(tx store.Tx) error {
		outcome = nil
		_, err := tx.UpdateThrottle(ctx, userKey, func(th *store.Throttle) error {
			if th.LockedUntil.After(now) {
				outcome = ErrThrottled
			}
			return nil
		})
		if err != nil || outcome != nil {
			return err
		}
		switch err := check(tx); {
		case err == nil:
			if err := clearFailures(ctx, tx, now, userKey); err != nil {
				return err
			}
			return tx.AppendAudit(ctx, ev.record(now, ""))
		case errors.Is(err, ErrBadCode):
			outcome = ErrBadCode
			return recordFailure(ctx, tx, now, ev, userKey, "")
		default:
			return err
		}
	})
	if err != nil {
		return err
	}
	return outcome
}

// Credential types, as AWS's sign-in events name them.
const (
	CredentialPassword = "PASSWORD"
	CredentialTOTP     = "TOTP"
	CredentialWebAuthn = "WEBAUTHN"
)

// signinEvent is who a CloudTrail-like sign-in record is about: which
// credential, whose, from where, in which sign-in (the workflow). A user
// name that does not exist is hidden, as AWS does: people type passwords
// there. A password is never part of one.
type signinEvent struct {
	userName, userID, sourceIP, credential, workflow string
}

func (e signinEvent) event(now time.Time, name string, extra map[string]string) store.AuditEvent {
	userName := e.userName
	if e.userID == "" {
		userName = model.Hidden
	}
	params := map[string]string{"UserName": userName, "UserId": e.userID, "CredentialType": e.credential}
	if e.workflow != "" {
		params["AuthWorkflowID"] = e.workflow
	}
	for k, v := range extra {
		params[k] = v
	}
	b, _ := json.Marshal(params)
	return store.AuditEvent{ID: ids.TimeUUID(), Time: now.UTC(), Source: SigninEventSource, EventName: name,
		PrincipalARN: e.principal(), SourceIP: e.sourceIP, RequestParams: string(b)}
}

func (e signinEvent) principal() string {
	if e.userID == "" {
		return ""
	}
	return store.UserARN(e.userID)
}

// challenge is the CredentialChallenge record: the credential was asked for.
func (e signinEvent) challenge(now time.Time, enrollment bool) store.AuditEvent {
	extra := map[string]string{}
	if enrollment {
		extra["DeviceEnrollmentRequired"] = "true"
	}
	return e.event(now, "CredentialChallenge", extra)
}

// record is the CredentialVerification record: whether the credential passed.
func (e signinEvent) record(now time.Time, failure string) store.AuditEvent {
	ev := e.event(now, "CredentialVerification", nil)
	if failure != "" {
		ev.ErrorCode, ev.ErrorMessage = "AuthenticationFailed", failure
	}
	return ev
}

// Challenge records that a sign-in asks the user for one of credentials
// (CredentialChallenge, one record each), to register a device when
// enrollment is set.
func (s *Service) Challenge(ctx context.Context, identityStoreID, userID string, credentials []string, enrollment bool, opts ...CheckOption) error {
	u, err := s.user(ctx, identityStoreID, userID)
	if err != nil {
		return err
	}
	o := checkOpts(opts)
	now := s.now()
	return s.store.Write(ctx, func(tx store.Tx) error {
		for _, c := range credentials {
			ev := signinEvent{userName: u.UserName, userID: u.ID, sourceIP: o.sourceIP, credential: c, workflow: o.workflow}
			if err := tx.AppendAudit(ctx, ev.challenge(now, enrollment)); err != nil {
				return err
			}
		}
		return nil
	})
}

// Authenticated records a finished sign-in (UserAuthentication): the user
// passed every challenge, with credentials (in the order given), and goes
// on to loginTo. AWS records none for a sign-in that fails; its failed
// CredentialVerification says so.
func (s *Service) Authenticated(ctx context.Context, identityStoreID, userID string, credentials []string, loginTo string, opts ...CheckOption) error {
	u, err := s.user(ctx, identityStoreID, userID)
	if err != nil {
		return err
	}
	o := checkOpts(opts)
	ev := signinEvent{userName: u.UserName, userID: u.ID, sourceIP: o.sourceIP, credential: strings.Join(credentials, ","), workflow: o.workflow}
	return s.store.Write(ctx, func(tx store.Tx) error {
		return tx.AppendAudit(ctx, ev.event(s.now(), "UserAuthentication", map[string]string{"LoginTo": loginTo}))
	})
}

// directoryEvent records a change a user made to their own credentials.
func directoryEvent(now time.Time, name string, u *store.User, params map[string]string) store.AuditEvent {
	if params == nil {
		params = map[string]string{}
	}
	params["UserName"], params["UserId"] = u.UserName, u.ID
	b, _ := json.Marshal(params)
	return store.AuditEvent{ID: ids.TimeUUID(), Time: now.UTC(), Source: DirectoryEventSource, EventName: name, RequestParams: string(b)}
}

// user reads an existing user.
func (s *Service) user(ctx context.Context, identityStoreID, userID string) (*store.User, error) {
	var u *store.User
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		u, err = tx.GetUser(ctx, identityStoreID, userID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUserNotFound
	}
	return u, err
}

// relyingParty is the WebAuthn relying party for rawURL: its id (the host)
// and its one origin.
func relyingParty(rawURL string) (id, origin string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "", fmt.Errorf("signin: the server URL %q is not an http(s) URL", rawURL)
	}
	return u.Hostname(), u.Scheme + "://" + u.Host, nil
}
