package signin

import (
	"context"
	"errors"
	"fmt"

	"github.com/atrium-sso/atrium/internal/store"
)

// ChangePassword sets the password of a user who has just proved the old
// one (CheckPassword, or a one-time password): it must meet the policy and
// differ from the user's latest passwords (*PolicyError otherwise). A
// disabled user gets ErrBadCredentials.
func (s *Service) ChangePassword(ctx context.Context, identityStoreID, userID, newPassword string) error {
	return s.setPassword(ctx, identityStoreID, userID, newPassword, false, true)
}

// SetPassword is an administrator setting a user's password; temporary
// makes it a one-time password, to be changed at the next sign-in. The same
// policy and reuse rules apply.
func (s *Service) SetPassword(ctx context.Context, identityStoreID, userID, password string, temporary bool) error {
	return s.setPassword(ctx, identityStoreID, userID, password, temporary, false)
}

// ResetPassword gives the user a generated one-time password and returns it
// (for the administrator to pass on); the user must change it at sign-in.
func (s *Service) ResetPassword(ctx context.Context, identityStoreID, userID string) (string, error) {
	set, err := s.Settings(ctx)
	if err != nil {
		return "", err
	}
	password := generatePassword(set.PasswordMinLength)
	if err := s.setPassword(ctx, identityStoreID, userID, password, true, false); err != nil {
		return "", err
	}
	return password, nil
}

func (s *Service) setPassword(ctx context.Context, identityStoreID, userID, password string, mustChange, byUser bool) error {
	var (
		user *store.User
		old  *store.Password
		set  Settings
	)
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		if set, _, err = readSettings(ctx, tx); err != nil {
			return err
		}
		if user, err = tx.GetUser(ctx, identityStoreID, userID); err != nil {
			return err
		}
		if old, err = tx.GetPassword(ctx, identityStoreID, userID); errors.Is(err, store.ErrNotFound) {
			old, err = nil, nil
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return ErrUserNotFound
	}
	if err != nil {
		return err
	}
	if byUser && user.Status != store.UserEnabled {
		return ErrBadCredentials
	}
	if perr := checkPolicy(password, set.PasswordMinLength); perr != nil {
		return perr
	}
	if old != nil {
		if err := s.checkReuse(ctx, old, password, set.PasswordReusePrevention); err != nil {
			return err
		}
	}
	hash, err := s.hasher.hash(ctx, password)
	if err != nil {
		return err
	}
	now := s.now()
	return s.store.Write(ctx, func(tx store.Tx) error {
		// History from the row as it is now, so a concurrent change is kept in it.
		var previous []string
		cur, err := tx.GetPassword(ctx, identityStoreID, userID)
		switch {
		case err == nil:
			previous = append([]string{cur.Hash}, cur.Previous...)
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		// Enough history for the strictest reuse-prevention setting.
		if len(previous) > maxReusePrevention-1 {
			previous = previous[:maxReusePrevention-1]
		}
		err = tx.PutPassword(ctx, store.Password{IdentityStoreID: identityStoreID, UserID: userID, Hash: hash, Previous: previous,
			MustChange: mustChange, UpdatedAt: now})
		if errors.Is(err, store.ErrNotFound) {
			return ErrUserNotFound
		}
		if err != nil || !byUser {
			return err
		}
		return tx.AppendAudit(ctx, directoryEvent(now, "UpdatePassword", user, nil))
	})
}

// checkReuse refuses password when it is one of the user's latest n
// passwords, the current one included.
func (s *Service) checkReuse(ctx context.Context, old *store.Password, password string, n int) error {
	hashes := append([]string{old.Hash}, old.Previous...)
	if len(hashes) > n {
		hashes = hashes[:n]
	}
	for _, h := range hashes {
		same, _, err := s.hasher.verify(ctx, h, password)
		if err != nil {
			return err
		}
		if same {
			if n == 1 {
				return &PolicyError{"The new password must differ from the current one."}
			}
			return &PolicyError{fmt.Sprintf("The new password must differ from your last %d passwords.", n)}
		}
	}
	return nil
}
