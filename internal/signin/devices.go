package signin

import (
	"context"
	"errors"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// MFADevice is a registered device as the user or an administrator sees it.
type MFADevice struct {
	ID         string
	Type       string // store.MFATOTP | store.MFAWebAuthn
	Name       string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero until first used
}

// MFADevices lists the user's devices, oldest first.
func (s *Service) MFADevices(ctx context.Context, identityStoreID, userID string) ([]MFADevice, error) {
	_, devices, err := s.userDevices(ctx, identityStoreID, userID)
	if err != nil {
		return nil, err
	}
	out := make([]MFADevice, len(devices))
	for i, d := range devices {
		out[i] = MFADevice{ID: d.ID, Type: d.Type, Name: d.Name, CreatedAt: d.CreatedAt, LastUsedAt: d.LastUsedAt}
	}
	return out, nil
}

// DeleteMFADevice removes one of the user's devices (a lost phone, a
// retired key); ErrNoDevice when the user has no device of that id.
func (s *Service) DeleteMFADevice(ctx context.Context, identityStoreID, userID, deviceID string) error {
	u, err := s.user(ctx, identityStoreID, userID)
	if err != nil {
		return err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		if err := tx.DeleteMFADevice(ctx, identityStoreID, userID, deviceID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, directoryEvent(s.now(), "DeleteMfaDeviceForUser", u, map[string]string{"DeviceId": deviceID}))
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoDevice
	}
	return err
}

// ResetMFA removes every MFA device of the user (an administrator's act,
// for a person who lost them all) and says how many there were. With
// mfa.mode required the user registers a new one at the next sign-in.
func (s *Service) ResetMFA(ctx context.Context, identityStoreID, userID string) (int, error) {
	u, err := s.user(ctx, identityStoreID, userID)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.store.Write(ctx, func(tx store.Tx) error {
		n = 0
		devices, err := tx.ListMFADevices(ctx, identityStoreID, userID)
		if err != nil {
			return err
		}
		for _, d := range devices {
			if err := tx.DeleteMFADevice(ctx, identityStoreID, userID, d.ID); err != nil {
				return err
			}
			if err := tx.AppendAudit(ctx, directoryEvent(s.now(), "DeleteMfaDeviceForUser", u, map[string]string{"DeviceId": d.ID})); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// ErrLastDevice: MFA is required and this is the user's only device; they
// must register another before removing it.
var ErrLastDevice = errors.New("signin: MFA is required and this is the user's only MFA device")

// DeleteOwnMFADevice removes one of the user's devices at their own request
// (the caller has just made them prove who they are again). Unlike an
// administrator, a user cannot remove their last device while mfa.mode is
// required (ErrLastDevice). ErrNoDevice when there is no such device.
func (s *Service) DeleteOwnMFADevice(ctx context.Context, identityStoreID, userID, deviceID string) error {
	u, err := s.user(ctx, identityStoreID, userID)
	if err != nil {
		return err
	}
	return s.store.Write(ctx, func(tx store.Tx) error {
		set, _, err := readSettings(ctx, tx)
		if err != nil {
			return err
		}
		devices, err := tx.ListMFADevices(ctx, identityStoreID, userID)
		if err != nil {
			return err
		}
		// Lock every device row (in one order) and count those still there:
		// two removals at once cannot each see the other's device as the
		// one that stays.
		live, found := 0, false
		for _, d := range devices {
			_, err := tx.UpdateMFADevice(ctx, identityStoreID, userID, d.ID, func(*store.MFADevice) error { return nil })
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			live++
			found = found || d.ID == deviceID
		}
		switch {
		case !found:
			return ErrNoDevice
		case live == 1 && set.MFAMode == MFARequired:
			return ErrLastDevice
		}
		if err := tx.DeleteMFADevice(ctx, identityStoreID, userID, deviceID); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, directoryEvent(s.now(), "DeleteMfaDeviceForUser", u, map[string]string{"DeviceId": deviceID}))
	})
}
