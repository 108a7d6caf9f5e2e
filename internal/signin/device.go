package signin

import (
	"context"
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// RememberedDeviceLifetime is how long a browser that completed MFA stays a
// known context for the user (mfa.prompt new-context).
const RememberedDeviceLifetime = 30 * 24 * time.Hour

// RememberDevice returns a token for a long-lived cookie that marks the
// browser as a known context for the user; call it after the user passed
// MFA. With mfa.prompt new-context, CheckPassword(…, FromDevice(token))
// then asks that browser for no MFA until the token expires, or until the
// user's credentials change: a new password (set by the user or an
// administrator) or a device added or removed forgets every remembered
// browser, so whoever took over a browser loses it with the reset. The
// token is bound to the user and signed with the instance's key; it holds
// no secret.
func (s *Service) RememberDevice(ctx context.Context, identityStoreID, userID string) (token string, expires time.Time, err error) {
	var pw *store.Password
	var devices []store.MFADevice
	err = s.store.Read(ctx, func(tx store.Tx) error {
		if _, err := tx.GetUser(ctx, identityStoreID, userID); err != nil {
			return err
		}
		var err error
		if pw, err = tx.GetPassword(ctx, identityStoreID, userID); errors.Is(err, store.ErrNotFound) {
			pw, err = nil, nil
		}
		if err != nil {
			return err
		}
		devices, err = tx.ListMFADevices(ctx, identityStoreID, userID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", time.Time{}, ErrUserNotFound
	}
	if err != nil {
		return "", time.Time{}, err
	}
	token, expires = s.rememberDevice(identityStoreID, userID, credentialEpoch(pw, devices))
	return token, expires, nil
}

// credentialEpoch names the state of a user's credentials: their password
// and the set of their MFA devices. It changes with any of them.
func credentialEpoch(pw *store.Password, devices []store.MFADevice) string {
	var b strings.Builder
	if pw != nil {
		b.WriteString(pw.Hash)
	}
	for _, d := range devices {
		b.WriteString("\x00" + d.ID)
	}
	return b.String()
}

func (s *Service) rememberDevice(identityStoreID, userID, epoch string) (token string, expires time.Time) {
	expires = s.now().Add(RememberedDeviceLifetime).Truncate(time.Second)
	b := binary.BigEndian.AppendUint64(nil, uint64(expires.Unix()))
	b = append(b, s.deviceMAC(identityStoreID, userID, epoch, expires)...)
	return base64.RawURLEncoding.EncodeToString(b), expires
}

func (s *Service) deviceMAC(identityStoreID, userID, epoch string, expires time.Time) []byte {
	return mac(s.keys.device, "remembered device", identityStoreID, userID, strconv.FormatInt(expires.Unix(), 10), epoch)[:16]
}

// rememberedDevice reports whether token is a live RememberDevice token of
// this user, made while their credentials were at epoch.
func (s *Service) rememberedDevice(token, identityStoreID, userID, epoch string, now time.Time) bool {
	// The decoder skips line breaks: without the length check a token with
	// one inside would pass as the token the service made.
	if len(token) != base64.RawURLEncoding.EncodedLen(8+16) {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != 8+16 {
		return false
	}
	expires := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	return now.Before(expires) && hmac.Equal(b[8:], s.deviceMAC(identityStoreID, userID, epoch, expires))
}
