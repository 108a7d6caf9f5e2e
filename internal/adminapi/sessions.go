package adminapi

import (
	"context"
	"errors"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/portal"
)

// Sessions is what the API needs of the portal's sign-in sessions.
type Sessions interface {
	ListSessions(ctx context.Context, identityStoreID, userID string, limit int, nextToken *string) ([]portal.Session, *string, error)
	RevokeSession(ctx context.Context, identityStoreID, sessionID string) error
	RevokeUserSessions(ctx context.Context, identityStoreID, userID string) (int, error)
}

// sessionOps list and end sign-in sessions (`atrium session list|revoke`);
// ending one ends every token and role credential issued from it.
func sessionOps(sessions Sessions) map[string]awsproto.Handler {
	return map[string]awsproto.Handler{
		"ListSessions": awsproto.Op(func(ctx context.Context, in *listSessionsIn) (*listSessionsOut, error) {
			limit := 100
			if in.MaxResults != nil {
				limit = *in.MaxResults
			}
			list, next, err := sessions.ListSessions(ctx, in.IdentityStoreId, in.UserId, limit, in.NextToken)
			if err != nil {
				return nil, err
			}
			out := &listSessionsOut{Sessions: make([]sessionOut, len(list)), NextToken: next}
			for i, s := range list {
				out.Sessions[i] = sessionOut{SessionId: s.ID, UserId: s.UserID, UserName: s.UserName, Methods: s.Methods, SourceIp: s.SourceIP,
					UserAgent: s.UserAgent, CreatedAt: awsproto.Timestamp(s.CreatedAt), ExpiresAt: awsproto.Timestamp(s.ExpiresAt)}
			}
			return out, nil
		}),
		"RevokeSession": awsproto.Op(func(ctx context.Context, in *revokeSessionIn) (*struct{}, error) {
			err := sessions.RevokeSession(ctx, in.IdentityStoreId, in.SessionId)
			if errors.Is(err, portal.ErrNoSession) {
				return nil, apierr.New(400, "ResourceNotFoundException", "SESSION not found.").With("ResourceType", "SESSION").With("ResourceId", in.SessionId)
			}
			return nil, err
		}),
		"RevokeUserSessions": awsproto.Op(func(ctx context.Context, in *userIn) (*revokeUserSessionsOut, error) {
			n, err := sessions.RevokeUserSessions(ctx, in.IdentityStoreId, in.UserId)
			if err != nil {
				return nil, err
			}
			return &revokeUserSessionsOut{RevokedCount: n}, nil
		}),
	}
}

type listSessionsIn struct {
	IdentityStoreId string
	UserId          string
	MaxResults      *int
	NextToken       *string
}

type sessionOut struct {
	SessionId string
	UserId    string
	UserName  string
	Methods   []string
	SourceIp  string
	UserAgent string
	CreatedAt awsproto.Timestamp
	ExpiresAt awsproto.Timestamp
}

type listSessionsOut struct {
	Sessions  []sessionOut
	NextToken *string `json:",omitempty"`
}

type revokeSessionIn struct {
	IdentityStoreId string
	SessionId       string
}

type revokeUserSessionsOut struct {
	RevokedCount int
}
