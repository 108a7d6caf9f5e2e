package adminapi

import (
	"context"
	"errors"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/scim"
)

// Scim is what the API needs of SCIM provisioning: its bearer tokens.
type Scim interface {
	CreateToken(ctx context.Context, identityStoreID, sourceName string, life time.Duration) (string, scim.Token, error)
	ListTokens(ctx context.Context, identityStoreID string) ([]scim.Token, error)
	RevokeToken(ctx context.Context, identityStoreID, id string) error
	Endpoint() string
}

// scimOps manage SCIM tokens (`atrium scim token create|list|revoke`),
// which AWS keeps in its console only.
func scimOps(sc Scim) map[string]awsproto.Handler {
	return map[string]awsproto.Handler{
		"CreateScimToken": awsproto.Op(func(ctx context.Context, in *createScimTokenIn) (*createScimTokenOut, error) {
			life := time.Duration(0)
			if in.ExpiresInSeconds != nil {
				life = time.Duration(*in.ExpiresInSeconds) * time.Second
			}
			secret, t, err := sc.CreateToken(ctx, in.IdentityStoreId, in.Source, life)
			if err != nil {
				return nil, scimError(err, in.Source)
			}
			return &createScimTokenOut{Token: secret, ScimToken: scimTokenOf(t), Endpoint: sc.Endpoint()}, nil
		}),
		"ListScimTokens": awsproto.Op(func(ctx context.Context, in *listScimTokensIn) (*listScimTokensOut, error) {
			list, err := sc.ListTokens(ctx, in.IdentityStoreId)
			if err != nil {
				return nil, scimError(err, "")
			}
			out := &listScimTokensOut{ScimTokens: make([]scimTokenOut, len(list)), Endpoint: sc.Endpoint()}
			for i, t := range list {
				out.ScimTokens[i] = scimTokenOf(t)
			}
			return out, nil
		}),
		"RevokeScimToken": awsproto.Op(func(ctx context.Context, in *revokeScimTokenIn) (*struct{}, error) {
			err := sc.RevokeToken(ctx, in.IdentityStoreId, in.TokenId)
			if errors.Is(err, scim.ErrNoToken) {
				return nil, apierr.New(400, "ResourceNotFoundException", "SCIM_TOKEN not found: %s", in.TokenId).
					With("ResourceType", "SCIM_TOKEN").With("ResourceId", in.TokenId)
			}
			return nil, scimError(err, "")
		}),
	}
}

// scimError turns SCIM's errors into the API's.
func scimError(err error, source string) error {
	var life *scim.LifeError
	switch {
	case errors.Is(err, scim.ErrTooManyTokens):
		return apierr.New(400, "ConflictException", "%s", "The identity store already has 2 active SCIM tokens; revoke one first")
	case errors.Is(err, scim.ErrNoSource):
		return apierr.New(400, "ResourceNotFoundException", "IDENTITY_SOURCE not found: %s", source).
			With("ResourceType", "IDENTITY_SOURCE").With("ResourceId", source)
	case errors.Is(err, scim.ErrNoStore):
		return apierr.New(400, "ResourceNotFoundException", "IDENTITY_STORE not found.").With("ResourceType", "IDENTITY_STORE")
	case errors.As(err, &life):
		return apierr.Validation("%s", life.Error())
	}
	return err
}

func scimTokenOf(t scim.Token) scimTokenOut {
	out := scimTokenOut{TokenId: t.ID, Source: t.SourceName, SourceId: t.SourceID, Status: t.Status, CreatedBy: t.CreatedBy,
		CreatedAt: awsproto.Timestamp(t.CreatedAt), ExpiresAt: awsproto.Timestamp(t.ExpiresAt)}
	if !t.RevokedAt.IsZero() {
		r := awsproto.Timestamp(t.RevokedAt)
		out.RevokedAt = &r
	}
	return out
}

type createScimTokenIn struct {
	IdentityStoreId  string
	Source           string
	ExpiresInSeconds *int64
}

type scimTokenOut struct {
	TokenId   string
	Source    string `json:",omitempty"`
	SourceId  string `json:",omitempty"`
	Status    string
	CreatedBy string `json:",omitempty"`
	CreatedAt awsproto.Timestamp
	ExpiresAt awsproto.Timestamp
	RevokedAt *awsproto.Timestamp `json:",omitempty"`
}

type createScimTokenOut struct {
	Token     string
	ScimToken scimTokenOut
	Endpoint  string
}

type listScimTokensIn struct {
	IdentityStoreId string
}

type listScimTokensOut struct {
	ScimTokens []scimTokenOut
	Endpoint   string
}

type revokeScimTokenIn struct {
	IdentityStoreId string
	TokenId         string
}
