package signin

import (
	"context"
	"errors"

	"github.com/atrium-sso/atrium/internal/store"
)

// AfterIdentityProvider decides what a user an external identity provider
// has just vouched for must do before their session starts. With
// atriumMFA false the IdP's own MFA stands and nothing is asked; otherwise
// the instance's MFA policy applies as after a password (a remembered
// browser included). Disabled and deleted users get ErrBadCredentials.
func (s *Service) AfterIdentityProvider(ctx context.Context, identityStoreID, userID string, atriumMFA bool, opts ...CheckOption) (*Attempt, error) {
	o := checkOpts(opts)
	var (
		user    *store.User
		pw      *store.Password
		devices []store.MFADevice
		set     Settings
	)
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		if user, err = tx.GetUser(ctx, identityStoreID, userID); err != nil {
			return err
		}
		if set, _, err = readSettings(ctx, tx); err != nil {
			return err
		}
		if pw, err = tx.GetPassword(ctx, identityStoreID, userID); errors.Is(err, store.ErrNotFound) {
			pw = nil
		} else if err != nil {
			return err
		}
		devices, err = tx.ListMFADevices(ctx, identityStoreID, userID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && user.Status != store.UserEnabled) {
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	a := &Attempt{User: user}
	for _, d := range devices {
		a.HasTOTP = a.HasTOTP || d.Type == store.MFATOTP
		a.HasWebAuthn = a.HasWebAuthn || d.Type == store.MFAWebAuthn
	}
	if atriumMFA {
		a.MFA = s.mfaStep(set, user, len(devices) > 0, o.deviceToken, credentialEpoch(pw, devices), s.now())
	}
	return a, nil
}
