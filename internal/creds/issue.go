package creds

import (
	"context"
	"time"

	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// Issued is a set of temporary credentials as their holder receives them.
type Issued struct {
	AccessKeyID     string // ASIA…
	SecretAccessKey string
	SessionToken    string // given out once; the store keeps only its hash
	Expiration      time.Time
	AssumedRoleID   string // AROA…:<session name>
	AssumedRoleARN  string // arn:aws:sts::<acct>:assumed-role/<role name>/<session name>
}

// RoleSession asks for temporary credentials of a role.
type RoleSession struct {
	Role        *store.IAMRole
	SessionName string
	SourceARN   string // who asks
	// SessionID is the sign-in session the credentials derive from (""
	// for none): revoking that session revokes them.
	SessionID string
	// OriginARN is, for a chained session, the assumed-role ARN its chain
	// began with (see ChainOrigin); what revokes that session revokes this one.
	OriginARN string
	Duration  time.Duration
	// Tags are the session's tags (aws:PrincipalTag/<key>).
	Tags map[string]string
}

// ChainOrigin is the OriginARN of a session assumed with credentials c:
// where c's own chain began, or c itself when it is the first hop.
func ChainOrigin(c *store.SessionCredential) string {
	if c.OriginARN != "" {
		return c.OriginARN
	}
	return c.AssumedRoleARN
}

// Issue mints temporary credentials for a role session and stores them in
// tx, so that any node can verify them as soon as tx commits.
func Issue(ctx context.Context, tx store.Tx, s RoleSession, now time.Time) (*Issued, error) {
	now = now.UTC().Truncate(time.Second)
	out := &Issued{
		AccessKeyID:     ids.TemporaryAccessKeyID(),
		SecretAccessKey: ids.SecretAccessKey(),
		SessionToken:    ids.SessionToken(),
		Expiration:      now.Add(s.Duration),
		AssumedRoleID:   s.Role.RoleID + ":" + s.SessionName,
		// The assumed-role ARN names the role without its path, as AWS's does.
		AssumedRoleARN: "arn:aws:sts::" + s.Role.AccountID + ":assumed-role/" + s.Role.Name + "/" + s.SessionName,
	}
	err := tx.InsertSessionCredential(ctx, store.SessionCredential{
		AccessKeyID:      out.AccessKeyID,
		Secret:           out.SecretAccessKey,
		SessionTokenHash: TokenHash(out.SessionToken),
		AccountID:        s.Role.AccountID,
		RoleARN:          s.Role.ARN(),
		AssumedRoleARN:   out.AssumedRoleARN,
		AssumedRoleID:    out.AssumedRoleID,
		SessionName:      s.SessionName,
		SourceARN:        s.SourceARN,
		SessionID:        s.SessionID,
		OriginARN:        s.OriginARN,
		Tags:             s.Tags,
		ExpiresAt:        out.Expiration,
		CreatedAt:        now,
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
