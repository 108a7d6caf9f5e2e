package signin

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// MFA modes (mfa.mode), as AWS offers them: users without a device register
// one at sign-in (required), may sign in without one (optional), or MFA is
// never asked for (off).
const (
	MFARequired = "required"
	MFAOptional = "optional"
	MFAOff      = "off"
)

// MFA prompts (mfa.prompt): at every sign-in, or only when the sign-in
// comes from a browser that has not completed MFA for the user before
// (RememberDevice).
const (
	PromptAlways     = "always"
	PromptNewContext = "new-context"
)

// Settings are the instance's sign-in settings.
type Settings struct {
	MFAMode               string
	MFAPrompt             string
	PortalSessionDuration time.Duration // how long a portal sign-in session lasts
	// PasswordMinLength raises the policy's minimum of 8 (up to 64).
	PasswordMinLength int
	// PasswordReusePrevention is how many of the user's latest passwords,
	// the current one included, a new password must differ from.
	PasswordReusePrevention int
}

// Setting is one key and its value, as `atrium settings` shows it.
type Setting struct {
	Key, Value string
	Default    bool // not set: the default applies
}

// SettingError is a setting key or value that is not accepted.
type SettingError struct{ Message string }

func (e *SettingError) Error() string { return e.Message }

func invalidSetting(format string, args ...any) *SettingError {
	return &SettingError{Message: fmt.Sprintf(format, args...)}
}

// settingKey is one setting: its default, and how a value is read into
// Settings (returning the value as stored, or a SettingError).
type settingKey struct {
	name  string
	def   string
	apply func(v string, s *Settings) (string, error)
}

const maxReusePrevention = 24 // IAM's PasswordReusePrevention maximum

var settingKeys = []settingKey{
	{"mfa.mode", MFARequired, func(v string, s *Settings) (string, error) {
		v = strings.ToLower(v)
		if v != MFARequired && v != MFAOptional && v != MFAOff {
			return "", invalidSetting("mfa.mode must be required, optional or off.")
		}
		s.MFAMode = v
		return v, nil
	}},
	{"mfa.prompt", PromptAlways, func(v string, s *Settings) (string, error) {
		v = strings.ToLower(v)
		if v != PromptAlways && v != PromptNewContext {
			return "", invalidSetting("mfa.prompt must be always or new-context.")
		}
		s.MFAPrompt = v
		return v, nil
	}},
	{"portal.session-duration", "PT8H", func(v string, s *Settings) (string, error) {
		d, ok := parseISODuration(strings.ToUpper(v))
		if !ok {
			return "", invalidSetting("portal.session-duration %q is not an ISO-8601 duration such as PT8H or P7D.", v)
		}
		if d < 15*time.Minute || d > 90*24*time.Hour {
			return "", invalidSetting("portal.session-duration must be from PT15M (15 minutes) to P90D (90 days).")
		}
		s.PortalSessionDuration = d
		return strings.ToUpper(v), nil
	}},
	{"password.min-length", strconv.Itoa(policyMinLength), func(v string, s *Settings) (string, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < policyMinLength || n > policyMaxLength {
			return "", invalidSetting("password.min-length must be a whole number from %d to %d.", policyMinLength, policyMaxLength)
		}
		s.PasswordMinLength = n
		return strconv.Itoa(n), nil
	}},
	{"password.reuse-prevention", "3", func(v string, s *Settings) (string, error) {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxReusePrevention {
			return "", invalidSetting("password.reuse-prevention must be a whole number from 1 to %d.", maxReusePrevention)
		}
		s.PasswordReusePrevention = n
		return strconv.Itoa(n), nil
	}},
}

func findSettingKey(key string) (*settingKey, error) {
	for i := range settingKeys {
		if settingKeys[i].name == key {
			return &settingKeys[i], nil
		}
	}
	names := make([]string, len(settingKeys))
	for i, k := range settingKeys {
		names[i] = k.name
	}
	return nil, invalidSetting("Unknown setting %q; the settings are %s.", key, strings.Join(names, ", "))
}

// readSettings reads the settings in tx, defaults filled in. A stored value
// that no longer parses falls back to the default rather than locking
// everyone out.
func readSettings(ctx context.Context, tx store.Tx) (Settings, []Setting, error) {
	stored, err := tx.ListSettings(ctx)
	if err != nil {
		return Settings{}, nil, err
	}
	var s Settings
	list := make([]Setting, 0, len(settingKeys))
	for _, k := range settingKeys {
		v, ok := stored[k.name]
		if ok {
			if v, err = k.apply(v, &s); err == nil {
				list = append(list, Setting{Key: k.name, Value: v})
				continue
			}
		}
		def, _ := k.apply(k.def, &s)
		list = append(list, Setting{Key: k.name, Value: def, Default: true})
	}
	return s, list, nil
}

// Settings returns the instance's sign-in settings. They are read from the
// store every time, so a change applies at once on every node.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	var set Settings
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		set, _, err = readSettings(ctx, tx)
		return err
	})
	return set, err
}

// SettingValues lists every setting with its value (key "" for all), or
// SettingError for an unknown key.
func (s *Service) SettingValues(ctx context.Context, key string) ([]Setting, error) {
	if key != "" {
		if _, err := findSettingKey(key); err != nil {
			return nil, err
		}
	}
	var list []Setting
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		_, list, err = readSettings(ctx, tx)
		return err
	})
	if err != nil || key == "" {
		return list, err
	}
	for _, st := range list {
		if st.Key == key {
			return []Setting{st}, nil
		}
	}
	return nil, nil
}

// UpdateSetting sets key to value, or answers SettingError.
func (s *Service) UpdateSetting(ctx context.Context, key, value string) (Setting, error) {
	k, err := findSettingKey(key)
	if err != nil {
		return Setting{}, err
	}
	v, err := k.apply(strings.TrimSpace(value), &Settings{})
	if err != nil {
		return Setting{}, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error { return tx.PutSetting(ctx, key, v) })
	return Setting{Key: key, Value: v}, err
}

// isoDuration is an ISO-8601 duration of weeks, or days and a time part.
var isoDuration = regexp.MustCompile(`^P(?:(\d+)W|(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?)$`)

// parseISODuration reads PnW or PnDTnHnMnS (years and months have no fixed length).
func parseISODuration(v string) (time.Duration, bool) {
	m := isoDuration.FindStringSubmatch(v)
	if m == nil || v == "P" || strings.HasSuffix(v, "T") {
		return 0, false
	}
	// Nothing sensible is longer than a century; the bound also keeps the
	// sum from overflowing.
	const limit = 100 * 365 * 24 * time.Hour
	units := []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
	var d time.Duration
	for i, u := range units {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64(limit/u) {
			return 0, false
		}
		if d += time.Duration(n) * u; d > limit {
			return 0, false
		}
	}
	return d, true
}
