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
