package signin

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// ceremonyTimeout is how long a browser has to answer a WebAuthn ceremony;
// the server refuses answers after it.
const ceremonyTimeout = 5 * time.Minute

// newWebAuthn configures the relying party for the server's URL, or gives
// nil when its host is an IP address (browsers refuse those).
func newWebAuthn(rawURL string) (*webauthn.WebAuthn, error) {
	rpID, origin, err := relyingParty(rawURL)
	if err != nil {
		return nil, err
	}
	if net.ParseIP(rpID) != nil {
		return nil, nil
	}
	timeouts := webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyTimeout, TimeoutUVD: ceremonyTimeout}
	return webauthn.New(&webauthn.Config{
		RPID:          rpID,
		RPDisplayName: "Atrium",
		RPOrigins:     []string{origin},
		// A second factor beside the password: any key or platform
		// authenticator, user verification if it can, nothing stored on it.
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey:      protocol.ResidentKeyRequirementDiscouraged,
			UserVerification: protocol.VerificationPreferred,
		},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts:              webauthn.TimeoutsConfig{Login: timeouts, Registration: timeouts},
	})
}

// WebAuthnAvailable reports whether security keys can be used with the
// server's URL (its host is a name, not an IP address).
func (s *Service) WebAuthnAvailable() bool { return s.webauthn != nil }

// webauthnUser is a directory user as go-webauthn sees one: the user handle
// is the user id, the credentials the user's WebAuthn devices.
type webauthnUser struct {
	user    *store.User
	devices []store.MFADevice // WebAuthn devices only
	creds   []webauthn.Credential
}

func (u *webauthnUser) WebAuthnID() []byte   { return []byte(u.user.ID) }
func (u *webauthnUser) WebAuthnName() string { return u.user.UserName }
func (u *webauthnUser) WebAuthnDisplayName() string {
	if u.user.DisplayName != "" {
		return u.user.DisplayName
	}
	return u.user.UserName
}
func (u *webauthnUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func (s *Service) webauthnUser(ctx context.Context, identityStoreID, userID string) (*webauthnUser, error) {
	if s.webauthn == nil {
		return nil, ErrWebAuthnUnavailable
	}
	u, devices, err := s.userDevices(ctx, identityStoreID, userID)
	if err != nil {
		return nil, err
	}
	wu := &webauthnUser{user: u}
	for _, d := range devices {
		if d.Type != store.MFAWebAuthn {
			continue
		}
		var c webauthn.Credential
		if err := json.Unmarshal(d.Credential, &c); err != nil {
			return nil, err
		}
		wu.devices, wu.creds = append(wu.devices, d), append(wu.creds, c)
	}
	return wu, nil
}

// ceremonyState is what the caller keeps between Begin and Finish, sealed:
// the caller can neither read nor alter it, and it opens only for the same
// ceremony and user.
type ceremonyState struct {
	Session webauthn.SessionData
}

const (
	ceremonyRegistration = "registration"
	ceremonyLogin        = "login"
)

func (s *Service) sealState(kind, identityStoreID, userID string, sd *webauthn.SessionData) ([]byte, error) {
	b, err := json.Marshal(ceremonyState{Session: *sd})
	if err != nil {
		return nil, err
	}
	return seal(s.keys.ceremony, b, kind+"\x00"+identityStoreID+"\x00"+userID), nil
}

func (s *Service) openState(kind, identityStoreID, userID string, state []byte) (webauthn.SessionData, error) {
	b, err := open(s.keys.ceremony, state, kind+"\x00"+identityStoreID+"\x00"+userID)
	if err != nil {
		return webauthn.SessionData{}, ErrBadCode
	}
	var st ceremonyState
	if err := json.Unmarshal(b, &st); err != nil {
		return webauthn.SessionData{}, ErrBadCode
	}
	return st.Session, nil
}

// BeginWebAuthnRegistration starts registering a security key or platform
// authenticator: optionsJSON is for navigator.credentials.create (the
// {"publicKey": …} object), state is for FinishWebAuthnRegistration.
// ErrDeviceLimit when the user has six already.
func (s *Service) BeginWebAuthnRegistration(ctx context.Context, identityStoreID, userID string) (optionsJSON []byte, state []byte, err error) {
	wu, err := s.webauthnUser(ctx, identityStoreID, userID)
	if err != nil {
		return nil, nil, err
	}
	if len(wu.creds) >= MaxWebAuthnDevices {
		return nil, nil, ErrDeviceLimit
	}
	exclude := webauthn.Credentials(wu.creds).CredentialDescriptors()
	creation, sd, err := s.webauthn.BeginRegistration(wu, webauthn.WithExclusions(exclude))
	if err != nil {
		return nil, nil, err
	}
	if optionsJSON, err = json.Marshal(creation); err != nil {
		return nil, nil, err
	}
	if state, err = s.sealState(ceremonyRegistration, identityStoreID, userID, sd); err != nil {
		return nil, nil, err
	}
	return optionsJSON, state, nil
}

// FinishWebAuthnRegistration verifies the browser's answer (r's body, the
// PublicKeyCredential as JSON) and registers the credential under name.
// ErrBadCode when it does not verify.
func (s *Service) FinishWebAuthnRegistration(ctx context.Context, identityStoreID, userID string, state []byte, r *http.Request, name string) error {
	wu, err := s.webauthnUser(ctx, identityStoreID, userID)
	if err != nil {
		return err
	}
	sd, err := s.openState(ceremonyRegistration, identityStoreID, userID, state)
	if err != nil {
		return err
	}
	cred, err := s.webauthn.FinishRegistration(wu, sd, r)
	if err != nil {
		return ErrBadCode
	}
	record, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	d := store.MFADevice{ID: ids.UUID(), IdentityStoreID: identityStoreID, UserID: userID, Type: store.MFAWebAuthn,
		Name: deviceName(name, "Security key"), CredentialID: cred.ID, Credential: record, CreatedAt: s.now()}
	err = s.insertDevice(ctx, wu.user, d, MaxWebAuthnDevices, "CompleteWebAuthnDeviceRegistration")
	if errors.Is(err, store.ErrConflict) { // the credential is registered already
		return ErrBadCode
	}
	return err
}

// BeginWebAuthnLogin starts proving one of the user's WebAuthn devices:
// optionsJSON is for navigator.credentials.get, state for
// FinishWebAuthnLogin. ErrNoDevice when the user has none.
func (s *Service) BeginWebAuthnLogin(ctx context.Context, identityStoreID, userID string) (optionsJSON []byte, state []byte, err error) {
	wu, err := s.webauthnUser(ctx, identityStoreID, userID)
	if err != nil {
		return nil, nil, err
	}
	if len(wu.creds) == 0 {
		return nil, nil, ErrNoDevice
	}
	assertion, sd, err := s.webauthn.BeginLogin(wu)
	if err != nil {
		return nil, nil, err
	}
	if optionsJSON, err = json.Marshal(assertion); err != nil {
		return nil, nil, err
	}
	if state, err = s.sealState(ceremonyLogin, identityStoreID, userID, sd); err != nil {
		return nil, nil, err
	}
	return optionsJSON, state, nil
}

// FinishWebAuthnLogin verifies the browser's assertion (r's body). Like
// VerifyTOTP, failures count towards the user's throttle (ErrThrottled when
// locked), both outcomes are audited, and a disabled user gets
// ErrBadCredentials. A signature counter that did not
// move forward (a replayed assertion, a cloned authenticator) fails.
func (s *Service) FinishWebAuthnLogin(ctx context.Context, identityStoreID, userID string, state []byte, r *http.Request, opts ...CheckOption) error {
	wu, err := s.webauthnUser(ctx, identityStoreID, userID)
	if err != nil {
		return err
	}
	sd, stateErr := s.openState(ceremonyLogin, identityStoreID, userID, state)
	// Read before the transaction: a slow client must not hold the writer.
	parsed, parseErr := protocol.ParseCredentialRequestResponse(r)
	return s.secondFactor(ctx, wu.user, CredentialWebAuthn, checkOpts(opts), func(tx store.Tx) error {
		if stateErr != nil || parseErr != nil {
			return ErrBadCode
		}
		cred, err := s.webauthn.ValidateLogin(wu, sd, parsed)
		if err != nil || cred.Authenticator.CloneWarning {
			return ErrBadCode
		}
		var device *store.MFADevice
		for i := range wu.devices {
			if string(wu.creds[i].ID) == string(cred.ID) {
				device = &wu.devices[i]
			}
		}
		if device == nil {
			return ErrBadCode
		}
		record, err := json.Marshal(cred)
		if err != nil {
			return err
		}
		_, err = tx.UpdateMFADevice(ctx, identityStoreID, userID, device.ID, func(d *store.MFADevice) error {
			// Checked again on the locked row, against what another login may just have stored.
			var stored webauthn.Credential
			if err := json.Unmarshal(d.Credential, &stored); err != nil {
				return err
			}
			if c := cred.Authenticator.SignCount; c != 0 && c <= stored.Authenticator.SignCount {
				return errReplayed
			}
			d.Credential, d.LastUsedAt = record, s.now()
			return nil
		})
		if errors.Is(err, errReplayed) || errors.Is(err, store.ErrNotFound) {
			return ErrBadCode
		}
		return err
	})
}
