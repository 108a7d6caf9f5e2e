package directory

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// ProvisionUser creates a user on behalf of an identity source (just-in-time
// creation at a first federated sign-in), with the rules CreateUser
// applies, and records it as a CreateUser event of that source. u's id and
// times are set here.
func (s *Service) ProvisionUser(ctx context.Context, u store.User) (*store.User, error) {
	if u.UserName == "" {
		return nil, errors.New("directory: a user needs a user name")
	}
	if err := checkReserved("userName", u.UserName); err != nil {
		return nil, err
	}
	if err := requireUserAttributes(u.DisplayName, u.Profile.Name); err != nil {
		return nil, err
	}
	u.ID = ids.UserID(u.IdentityStoreID)
	u.CreatedAt = time.Now().UTC()
	u.CreatedBy = "atrium:identity-source/" + u.SourceID
	u.UpdatedAt, u.UpdatedBy = u.CreatedAt, u.CreatedBy
	params, _ := json.Marshal(map[string]string{"IdentityStoreId": u.IdentityStoreID, "UserName": u.UserName, "IdentitySourceId": u.SourceID})
	err := s.write(ctx, u.IdentityStoreID, func(tx store.Tx) error {
		err := tx.InsertUser(ctx, u)
		if errors.Is(err, store.ErrConflict) {
			return conflict("Duplicate UserName")
		}
		if err != nil {
			return err
		}
		return tx.AppendAudit(ctx, store.AuditEvent{ID: ids.TimeUUID(), Time: u.CreatedAt, Source: "identitystore.amazonaws.com",
			EventName: "CreateUser", PrincipalARN: u.CreatedBy, RequestParams: string(params)})
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}
