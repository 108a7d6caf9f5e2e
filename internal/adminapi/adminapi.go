// Package adminapi is Atrium's own administrative API: what AWS keeps in its
// console (enabling and disabling users, their passwords, the instance's
// sign-in settings, people's sign-in sessions), served as an awsJson1.1 service signed like the others.
// It only translates: each operation calls the domain package that owns the rule.
package adminapi

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/signin"
	"github.com/atrium-sso/atrium/internal/store"
)

// The model is written in the same stripped form as AWS's and validated the
// same way. model.json holds the metadata and the users', settings' and
// sessions' operations; each other area adds a model_<area>.json with its
// own operations and shapes, merged here (a name defined twice is an error).
//
//go:embed model*.json
var modelFS embed.FS

// TargetPrefix and SigningName identify the API on the wire.
const (
	TargetPrefix = "AtriumAdmin"
	SigningName  = "atrium"
)

// Model is the API's model.
func Model() *model.Service {
	raw, err := mergedModel()
	if err != nil {
		panic(err) // the embedded model is part of the build
	}
	m, err := model.Parse("atrium", raw)
	if err != nil {
		panic(err)
	}
	return m
}

func sameJSON(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	ja, _ := json.Marshal(x)
	jb, _ := json.Marshal(y)
	return string(ja) == string(jb)
}

// mergedModel joins model.json and the model_*.json fragments into one document.
func mergedModel() ([]byte, error) {
	var doc map[string]json.RawMessage
	base, err := modelFS.ReadFile("model.json")
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(base, &doc); err != nil {
		return nil, fmt.Errorf("model.json: %w", err)
	}
	merged := map[string]map[string]json.RawMessage{}
	parts, _ := fs.Glob(modelFS, "model*.json")
	for _, name := range parts {
		raw, err := modelFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		var part struct{ Operations, Shapes map[string]json.RawMessage }
		if err := json.Unmarshal(raw, &part); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for section, defs := range map[string]map[string]json.RawMessage{"operations": part.Operations, "shapes": part.Shapes} {
			if merged[section] == nil {
				merged[section] = map[string]json.RawMessage{}
			}
			for k, v := range defs {
				if prev, dup := merged[section][k]; dup && !sameJSON(prev, v) {
					return nil, fmt.Errorf("%s: %s %q is defined twice, differently", name, section, k)
				}
				merged[section][k] = v
			}
		}
	}
	for section, defs := range merged {
		if doc[section], err = json.Marshal(defs); err != nil {
			return nil, err
		}
	}
	return json.Marshal(doc)
}

// Directory is what the API needs of the directory.
type Directory interface {
	SetUserStatus(ctx context.Context, identityStoreID, userID string, enabled bool) error
}

// Signin is what the API needs of sign-in.
type Signin interface {
	SetPassword(ctx context.Context, identityStoreID, userID, password string, temporary bool) error
	ResetPassword(ctx context.Context, identityStoreID, userID string) (string, error)
	SettingValues(ctx context.Context, key string) ([]signin.Setting, error)
	UpdateSetting(ctx context.Context, key, value string) (signin.Setting, error)
}

// Deps are the domain services the operations call. Each area's
// operations live in their own file, added to the API by API.
type Deps struct {
	Directory Directory
	Signin    Signin
	Sessions  Sessions
	Sources   Sources
	Scim      Scim
	Mfa       Mfa
}

// API serves the admin operations.
func API(d Deps) *awsproto.Service {
	dir, sign := d.Directory, d.Signin
	api := &awsproto.Service{
		Model:       Model(),
		EventSource: "atrium.amazonaws.com",
		Ops: map[string]awsproto.Handler{
			"SetUserStatus": awsproto.Op(func(ctx context.Context, in *setUserStatusIn) (*struct{}, error) {
				return nil, dir.SetUserStatus(ctx, in.IdentityStoreId, in.UserId, in.UserStatus == "ENABLED")
			}),
			"SetUserPassword": awsproto.Op(func(ctx context.Context, in *setUserPasswordIn) (*struct{}, error) {
				return nil, signinError(sign.SetPassword(ctx, in.IdentityStoreId, in.UserId, in.Password, in.Temporary), in.UserId)
			}),
			"ResetUserPassword": awsproto.Op(func(ctx context.Context, in *userIn) (*resetUserPasswordOut, error) {
				p, err := sign.ResetPassword(ctx, in.IdentityStoreId, in.UserId)
				if err != nil {
					return nil, signinError(err, in.UserId)
				}
				return &resetUserPasswordOut{OneTimePassword: p}, nil
			}),
			"GetSettings": awsproto.Op(func(ctx context.Context, in *getSettingsIn) (*getSettingsOut, error) {
				list, err := sign.SettingValues(ctx, in.Key)
				if err != nil {
					return nil, signinError(err, "")
				}
				out := &getSettingsOut{Settings: make([]setting, len(list))}
				for i, s := range list {
					out.Settings[i] = setting(s)
				}
				return out, nil
			}),
			"UpdateSetting": awsproto.Op(func(ctx context.Context, in *updateSettingIn) (*updateSettingOut, error) {
				s, err := sign.UpdateSetting(ctx, in.Key, in.Value)
				if err != nil {
					return nil, signinError(err, "")
				}
				return &updateSettingOut{Setting: setting(s)}, nil
			}),
		},
	}
	for _, ops := range []map[string]awsproto.Handler{sessionOps(d.Sessions), sourceOps(d.Sources), scimOps(d.Scim), mfaOps(d.Mfa)} {
		for name, op := range ops {
			api.Ops[name] = op
		}
	}
	api.Resources = userResources(api)
	return api
}

// userResources names the user an operation acts on, as identitystore
// names it (its User resource type), so that a policy that keeps a role
// from changing one user in the directory (identitystore:*) keeps it from
// setting that user's password or removing their MFA (atrium:*) as well.
// Operations that name no user act on "*".
func userResources(api *awsproto.Service) map[string]awsproto.ResourceFunc {
	byUser := func(_ context.Context, in *awsproto.Input) ([]string, error) {
		if id := in.String("UserId"); id != "" {
			return []string{store.UserARN(id)}, nil
		}
		return nil, nil
	}
	out := map[string]awsproto.ResourceFunc{}
	for name := range api.Ops {
		if op := api.Model.Operations[name]; op != nil && op.Input != nil && op.Input.Members["UserId"] != nil {
			out[name] = byUser
		}
	}
	return out
}

// signinError turns sign-in's errors into the API's.
func signinError(err error, userID string) error {
	var policy *signin.PolicyError
	var invalid *signin.SettingError
	switch {
	case errors.Is(err, signin.ErrUserNotFound):
		return apierr.New(400, "ResourceNotFoundException", "USER not found.").With("ResourceType", "USER").With("ResourceId", userID)
	case errors.As(err, &policy):
		return apierr.Validation("%s", policy.Message)
	case errors.As(err, &invalid):
		return apierr.Validation("%s", invalid.Message)
	}
	return err
}

type setUserStatusIn struct {
	IdentityStoreId string
	UserId          string
	UserStatus      string
}

type userIn struct {
	IdentityStoreId string
	UserId          string
}

type setUserPasswordIn struct {
	IdentityStoreId string
	UserId          string
	Password        string
	Temporary       bool
}

type resetUserPasswordOut struct {
	OneTimePassword string
}

type getSettingsIn struct {
	Key string
}

type setting struct {
	Key     string
	Value   string
	Default bool
}

type getSettingsOut struct {
	Settings []setting
}

type updateSettingIn struct {
	Key   string
	Value string
}

type updateSettingOut struct {
	Setting setting
}
