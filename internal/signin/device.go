package signin

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"time"
)

// RememberedDeviceLifetime is how long a browser that completed MFA stays a
// known context for the user (mfa.prompt new-context).
const RememberedDeviceLifetime = 30 * 24 * time.Hour

// RememberDevice returns a token for a long-lived cookie that marks the
// browser as a known context for the user; call it after the user passed
// MFA. With mfa.prompt new-context, CheckPassword(…, FromDevice(token))
// then asks that browser for no MFA until the token expires. The token is
// bound to the user and signed with the instance's key; it holds no secret.
func (s *Service) RememberDevice(identityStoreID, userID string) (token string, expires time.Time) {
	expires = s.now().Add(RememberedDeviceLifetime).Truncate(time.Second)
	b := binary.BigEndian.AppendUint64(nil, uint64(expires.Unix()))
	b = append(b, s.deviceMAC(identityStoreID, userID, expires)...)
	return base64.RawURLEncoding.EncodeToString(b), expires
}

func (s *Service) deviceMAC(identityStoreID, userID string, expires time.Time) []byte {
	return mac(s.keys.device, "remembered device", identityStoreID, userID, strconv.FormatInt(expires.Unix(), 10))[:16]
}

// rememberedDevice reports whether token is a live RememberDevice token of this user.
func (s *Service) rememberedDevice(token, identityStoreID, userID string, now time.Time) bool {
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil || len(b) != 8+16 {
		return false
	}
	expires := time.Unix(int64(binary.BigEndian.Uint64(b[:8])), 0)
	return now.Before(expires) && hmac.Equal(b[8:], s.deviceMAC(identityStoreID, userID, expires))
}
