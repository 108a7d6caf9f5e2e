// Package adminapi is Atrium's own administrative API: what AWS keeps in its
// console (enabling and disabling users, their passwords, the instance's
// sign-in settings, people's sign-in sessions), served as an awsJson1.1 service signed like the others.
// It only translates: each operation calls the domain package that owns the rule.
package adminapi

import (
	"context"
	_ "embed"
	"errors"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/signin"
)

// The model is written in the same stripped form as AWS's and validated the same way.
//
//go:embed model.json
var modelJSON []byte

// TargetPrefix and SigningName identify the API on the wire.
const (
	TargetPrefix = "AtriumAdmin"
	SigningName  = "atrium"
)

// Model is the API's model.
func Model() *model.Service {
	m, err := model.Parse("atrium", modelJSON)
	if err != nil {
		panic(err) // the embedded model is part of the build
	}
	return m
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

// API serves the admin operations.
func API(dir Directory, sign Signin, sessions Sessions) *awsproto.Service {
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
	for name, op := range sessionOps(sessions) {
		api.Ops[name] = op
	}
	return api
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
