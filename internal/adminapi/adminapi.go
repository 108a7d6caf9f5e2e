// Package adminapi is Atrium's own administrative API: what AWS keeps in its
// console (enabling and disabling users; later passwords and settings),
// served as an awsJson1.1 service signed like the others. It only
// translates: each operation calls the domain package that owns the rule.
package adminapi

import (
	"context"
	_ "embed"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
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

// API serves the admin operations.
func API(dir Directory) *awsproto.Service {
	return &awsproto.Service{
		Model:       Model(),
		EventSource: "atrium.amazonaws.com",
		Ops: map[string]awsproto.Handler{
			"SetUserStatus": awsproto.Op(func(ctx context.Context, in *setUserStatusIn) (*struct{}, error) {
				return nil, dir.SetUserStatus(ctx, in.IdentityStoreId, in.UserId, in.UserStatus == "ENABLED")
			}),
		},
	}
}

type setUserStatusIn struct {
	IdentityStoreId string
	UserId          string
	UserStatus      string
}
