package signin

import (
	"bytes"
	"context"
	"crypto/subtle"
	"errors"
	"image/png"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// RFC 6238 as every authenticator app does it: SHA-1, 30-second steps, 6
// digits; a code is accepted one step early or late for clock drift.
const (
	totpPeriod = 30
	totpSkew   = 1
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TOTPEnrollment is an authenticator app being registered. It carries the
// secret in clear until FinishTOTPEnrollment: keep it server-side.
type TOTPEnrollment struct {
	Secret string // base32, for typing into the app
	URL    string // otpauth:// URL, what the QR code holds
	QRPNG  []byte // the QR code, 256×256 PNG
}

// BeginTOTPEnrollment makes a new secret for the user to add to an
// authenticator app; issuer is the name the app shows (e.g. "Atrium").
// ErrDeviceLimit when the user has two apps already.
func (s *Service) BeginTOTPEnrollment(ctx context.Context, identityStoreID, userID, issuer string) (*TOTPEnrollment, error) {
	u, devices, err := s.userDevices(ctx, identityStoreID, userID)
	if err != nil {
		return nil, err
	}
	if count(devices, store.MFATOTP) >= MaxTOTPDevices {
		return nil, ErrDeviceLimit
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: u.UserName, Period: totpPeriod, SecretSize: 20,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, err
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return nil, err
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return nil, err
	}
	return &TOTPEnrollment{Secret: key.Secret(), URL: key.URL(), QRPNG: qr.Bytes()}, nil
}

// FinishTOTPEnrollment registers the app of e once the user shows it works
// with a current code (ErrBadCode otherwise). That code is spent: it cannot
// also sign in. name labels the device for the user ("" gives a default).
func (s *Service) FinishTOTPEnrollment(ctx context.Context, identityStoreID, userID string, e *TOTPEnrollment, code, name string) error {
	u, err := s.user(ctx, identityStoreID, userID)
	if err != nil {
		return err
	}
	now := s.now()
	step, ok := matchTOTP(e.Secret, code, now)
	if !ok {
		return ErrBadCode
	}
	d := store.MFADevice{ID: ids.UUID(), IdentityStoreID: identityStoreID, UserID: userID, Type: store.MFATOTP,
		Name: deviceName(name, "Authenticator app"), LastStep: step, CreatedAt: now}
	d.Secret = seal(s.keys.totp, []byte(e.Secret), d.ID)
	return s.insertDevice(ctx, u, d, MaxTOTPDevices, "CompleteVirtualMfaDeviceRegistration")
}

// VerifyTOTP checks a code from one of the user's authenticator apps. A
// code is usable once: each app remembers the last time step it accepted
// and takes only later ones. Failures count towards the user's sign-in
// throttle (ErrThrottled when it is locked); both outcomes are audited. A
// disabled user gets ErrBadCredentials.
func (s *Service) VerifyTOTP(ctx context.Context, identityStoreID, userID, code string, opts ...CheckOption) error {
	u, devices, err := s.userDevices(ctx, identityStoreID, userID)
	if err != nil {
		return err
	}
	return s.secondFactor(ctx, u, CredentialTOTP, checkOpts(opts), func(tx store.Tx) error {
		now := s.now()
		for _, d := range devices {
			if d.Type != store.MFATOTP {
				continue
			}
			secret, err := open(s.keys.totp, d.Secret, d.ID)
			if err != nil {
				return err
			}
			step, ok := matchTOTP(string(secret), code, now)
			if !ok {
				continue
			}
			_, err = tx.UpdateMFADevice(ctx, identityStoreID, userID, d.ID, func(d *store.MFADevice) error {
				if step <= d.LastStep {
					return errReplayed
				}
				d.LastStep, d.LastUsedAt = step, now
				return nil
			})
			if errors.Is(err, errReplayed) || errors.Is(err, store.ErrNotFound) {
				return ErrBadCode // used before, or the device was just removed
			}
			return err
		}
		return ErrBadCode
	})
}

var errReplayed = errors.New("signin: code used before")

// matchTOTP finds the time step within the skew at which code is secret's
// code; every candidate is compared, in constant time.
func matchTOTP(secret, code string, now time.Time) (int64, bool) {
	if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	var found int64
	ok := false
	for step := cur - totpSkew; step <= cur+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			found, ok = step, true
		}
	}
	return found, ok
}

// checkThrottle answers ErrThrottled when one of keys is locked.
func (s *Service) checkThrottle(ctx context.Context, now time.Time, keys ...string) error {
	var locked bool
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		locked, err = throttled(ctx, tx, now, keys...)
		return err
	})
	if err == nil && locked {
		return ErrThrottled
	}
	return err
}

// userDevices reads a user and their MFA devices.
func (s *Service) userDevices(ctx context.Context, identityStoreID, userID string) (*store.User, []store.MFADevice, error) {
	var u *store.User
	var devices []store.MFADevice
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		if u, err = tx.GetUser(ctx, identityStoreID, userID); err != nil {
			return err
		}
		devices, err = tx.ListMFADevices(ctx, identityStoreID, userID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrUserNotFound
	}
	return u, devices, err
}

// insertDevice stores a newly registered device and audits it as event.
func (s *Service) insertDevice(ctx context.Context, u *store.User, d store.MFADevice, limit int, event string) error {
	err := s.store.Write(ctx, func(tx store.Tx) error {
		if err := tx.InsertMFADevice(ctx, d, limit); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, directoryEvent(d.CreatedAt, event, u, map[string]string{"DeviceId": d.ID, "DeviceName": d.Name}))
	})
	switch {
	case errors.Is(err, store.ErrLimitReached):
		return ErrDeviceLimit
	case errors.Is(err, store.ErrNotFound): // ErrUserMissing: deleted meanwhile
		return ErrUserNotFound
	}
	return err
}

func count(devices []store.MFADevice, typ string) int {
	n := 0
	for _, d := range devices {
		if d.Type == typ {
			n++
		}
	}
	return n
}

// deviceName trims a user-given device label to something displayable.
func deviceName(name, def string) string {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) {
		return def
	}
	if r := []rune(name); len(r) > 64 {
		name = string(r[:64])
	}
	return name
}
