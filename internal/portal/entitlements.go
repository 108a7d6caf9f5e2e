package portal

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/access"
	"github.com/atrium-sso/atrium/internal/audit"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

// AccountAccess is an account a person may use and the permission sets
// (the portal's "roles") they hold there.
type AccountAccess struct {
	AccountID   string
	AccountName string
	Email       string
	Roles       []string // permission set names, sorted
}

// Credentials are temporary credentials for a role, as the person receives them.
type Credentials struct {
	AccessKeyID     string // ASIA…
	SecretAccessKey string
	SessionToken    string
	Expiration      time.Time
	AssumedRoleARN  string // arn:aws:sts::<acct>:assumed-role/AWSReservedSSO_<ps>_<hex>/<user name>
}

// instanceRef is the Identity Center instance a session's identity store belongs to.
type instanceRef struct {
	arn            string
	ownerAccountID string
}

func (s *Service) instance(ctx context.Context, tx store.Tx, identityStoreID string) (instanceRef, error) {
	if v, ok := s.instances.Load(identityStoreID); ok {
		return v.(instanceRef), nil
	}
	all, err := tx.ListInstances(ctx)
	if err != nil {
		return instanceRef{}, err
	}
	for _, in := range all {
		if in.IdentityStoreID == identityStoreID {
			ref := instanceRef{arn: in.ARN, ownerAccountID: in.OwnerAccountID}
			s.instances.Store(identityStoreID, ref)
			return ref, nil
		}
	}
	return instanceRef{}, ErrNoSession
}

// AuditAccount is the account a session's audit records belong to: the
// one that owns its Identity Center instance.
func (s *Service) AuditAccount(ctx context.Context, sess *Session) string {
	var ref instanceRef
	s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		ref, err = s.instance(ctx, tx, sess.IdentityStoreID)
		return err
	})
	return ref.ownerAccountID
}

// AuditEvent is the record of what a signed-in person did outside the
// APIs the edge records (on the portal's pages, or as a consequence of a
// call): who (nil sess: unknown), from where, what.
func (s *Service) AuditEvent(ctx context.Context, sess *Session, name string, params map[string]string) store.AuditEvent {
	b, _ := json.Marshal(params)
	e := store.AuditEvent{ID: ids.TimeUUID(), Time: s.now().UTC(), Source: "sso.amazonaws.com", EventName: name,
		SourceIP: awsproto.AccessOf(ctx, "", "").SourceIP, RequestID: awsproto.RequestID(ctx), RequestParams: string(b)}
	if sess != nil {
		e.PrincipalARN, e.AccountID = sess.PrincipalARN(), s.AuditAccount(ctx, sess)
	}
	return e
}

// grant is a permission set a person holds in an account.
type grant struct{ accountID, permissionSetARN string }

// grants lists what the session's user holds, directly or through its
// groups — in accountID only unless it is "" — each grant once, by
// account then permission set.
func (s *Service) grants(ctx context.Context, tx store.Tx, inst instanceRef, sess *Session, accountID string) ([]grant, error) {
	principals, err := access.PrincipalsOf(ctx, tx, sess.IdentityStoreID, store.PrincipalRef{Type: store.PrincipalUser, ID: sess.UserID})
	if err != nil {
		return nil, err
	}
	const page = 1000
	var out []grant
	after := ""
	for {
		list, err := tx.ListAssignmentsForPrincipals(ctx, inst.arn, principals, accountID, after, page)
		if err != nil {
			return nil, err
		}
		for _, a := range list {
			g := grant{a.AccountID, a.PermissionSetARN}
			if len(out) == 0 || out[len(out)-1] != g { // by key, one grant's assignments are adjacent
				out = append(out, g)
			}
		}
		if len(list) < page {
			return out, nil
		}
		after = list[len(list)-1].Key()
	}
}

// provisioned returns a grant's permission set and where it is provisioned
// in the account; ErrNoAccess when it is not (yet, or any more).
func provisioned(ctx context.Context, tx store.Tx, inst instanceRef, g grant, sets map[string]*store.PermissionSet) (*store.PermissionSet, *store.Provisioned, error) {
	ps, ok := sets[g.permissionSetARN]
	if !ok {
		var err error
		if ps, err = tx.GetPermissionSet(ctx, inst.arn, g.permissionSetARN); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, err
		}
		sets[g.permissionSetARN] = ps
	}
	if ps == nil {
		return nil, nil, ErrNoAccess
	}
	p, err := tx.GetProvisioned(ctx, inst.arn, g.accountID, g.permissionSetARN)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, ErrNoAccess
	}
	return ps, p, err
}

// entitlements lists the accounts the session's user may use (in accountID
// only unless it is ""), by account id > after, at most limit (0 = all),
// each with the provisioned permission sets held there.
func (s *Service) entitlements(ctx context.Context, tx store.Tx, sess *Session, accountID, after string, limit int) ([]AccountAccess, error) {
	inst, err := s.instance(ctx, tx, sess.IdentityStoreID)
	if err != nil {
		return nil, err
	}
	gs, err := s.grants(ctx, tx, inst, sess, accountID)
	if err != nil {
		return nil, err
	}
	sets := map[string]*store.PermissionSet{}
	var out []AccountAccess
	for i := 0; i < len(gs) && (limit == 0 || len(out) < limit); {
		acct := gs[i].accountID
		var roles []string
		for ; i < len(gs) && gs[i].accountID == acct; i++ {
			if acct <= after {
				continue
			}
			ps, _, err := provisioned(ctx, tx, inst, gs[i], sets)
			if errors.Is(err, ErrNoAccess) {
				continue
			}
			if err != nil {
				return nil, err
			}
			roles = append(roles, ps.Name)
		}
		if len(roles) == 0 {
			continue
		}
		a, err := tx.GetAccount(ctx, acct)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		slices.Sort(roles)
		out = append(out, AccountAccess{AccountID: a.ID, AccountName: a.Name, Email: a.Email, Roles: roles})
	}
	return out, nil
}

// Entitlements lists the accounts the session's user may use, by account
// id, each with the permission sets held there directly or through groups.
func (s *Service) Entitlements(ctx context.Context, sess *Session) ([]AccountAccess, error) {
	var out []AccountAccess
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		out, err = s.entitlements(ctx, tx, sess, "", "", 0)
		return err
	})
	return out, err
}

// RoleCredentials mints temporary credentials for the session's user in
// account, for the permission set named roleName (the portal API's role
// name): credentials of the role it is provisioned as there, named after
// the user, lasting the permission set's session duration (never past the
// sign-in session, which they die with). ErrNoAccess when the user does not
// hold it there or it is not provisioned.
func (s *Service) RoleCredentials(ctx context.Context, sess *Session, accountID, roleName string) (*Credentials, error) {
	held, err := s.heldRole(ctx, sess, accountID, roleName)
	if err != nil {
		return nil, err
	}
	duration := held.duration
	now := s.now()
	if left := sess.ExpiresAt.Sub(now).Truncate(time.Second); left < duration {
		duration = left
	}
	if duration <= 0 {
		return nil, ErrNoSession
	}
	var issued *creds.Issued
	err = s.store.Write(ctx, func(tx store.Tx) error {
		var err error
		issued, err = creds.Issue(ctx, tx, creds.RoleSession{Role: held.role, SessionName: sess.UserName, SourceARN: sess.PrincipalARN(),
			SessionID: sess.ID, Duration: duration, Tags: held.tags}, now)
		if err != nil || audit.Recording(ctx) {
			return err
		}
		// Taken on the portal's pages: no API call records it.
		return tx.AppendAudit(ctx, s.AuditEvent(ctx, sess, "GetRoleCredentials", map[string]string{"accountId": accountID, "roleName": roleName}))
	})
	if err != nil {
		return nil, err
	}
	return &Credentials{AccessKeyID: issued.AccessKeyID, SecretAccessKey: issued.SecretAccessKey, SessionToken: issued.SessionToken,
		Expiration: issued.Expiration, AssumedRoleARN: issued.AssumedRoleARN}, nil
}

// heldRole is a role a session's user holds in an account through a
// provisioned permission set, with that set's session duration.
type heldRole struct {
	role     *store.IAMRole
	duration time.Duration
	tags     map[string]string // the session tags its credentials carry (access.SessionTags)
}

// heldRole finds the role of the permission set named roleName that the
// session's user holds in account; ErrNoAccess when there is none. The
// answer may be up to checkTTL old, like every other check.
func (s *Service) heldRole(ctx context.Context, sess *Session, accountID, roleName string) (*heldRole, error) {
	key := sess.ID + "\x00" + accountID + "\x00" + roleName
	if h, ok := s.roles.Get(key); ok {
		return h, nil
	}
	var role *store.IAMRole
	var ps *store.PermissionSet
	var tags map[string]string
	err := s.store.Read(ctx, func(tx store.Tx) error {
		inst, err := s.instance(ctx, tx, sess.IdentityStoreID)
		if err != nil {
			return err
		}
		user, err := tx.GetUser(ctx, sess.IdentityStoreID, sess.UserID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNoSession
		}
		if err != nil {
			return err
		}
		if tags, err = access.SessionTags(ctx, tx, inst.arn, user, sess.AssertedTags); err != nil {
			return err
		}
		gs, err := s.grants(ctx, tx, inst, sess, accountID)
		if err != nil {
			return err
		}
		sets := map[string]*store.PermissionSet{}
		for _, g := range gs {
			set, p, err := provisioned(ctx, tx, inst, g, sets)
			if errors.Is(err, ErrNoAccess) {
				continue
			}
			if err != nil {
				return err
			}
			if set.Name != roleName {
				continue
			}
			ps = set
			role, err = tx.GetRole(ctx, accountID, p.RoleName)
			if errors.Is(err, store.ErrNotFound) {
				return ErrNoAccess
			}
			return err
		}
		return ErrNoAccess
	})
	if err != nil {
		return nil, err
	}
	h := &heldRole{role: role, duration: time.Hour, tags: tags} // a permission set's default, as AWS's
	if ps.SessionDuration != "" {
		if h.duration, err = access.ParseSessionDuration(ps.SessionDuration); err != nil {
			return nil, err
		}
	}
	s.roles.Put(key, h)
	return h, nil
}

// ValidateSessionCredential decides whether temporary credentials tied to
// a sign-in session may still be used: the session is live and its user
// enabled, and the user still holds the Identity Center role the
// credentials come from — their own role, or for a chained session the
// role whose credentials assumed it. The answer may be up to checkTTL old;
// creds.ErrRevoked when they may not be used.
func (s *Service) ValidateSessionCredential(ctx context.Context, c *store.SessionCredential) error {
	sess, err := s.Session(ctx, c.SessionID)
	if errors.Is(err, ErrNoSession) {
		return creds.ErrRevoked
	}
	if err != nil {
		return err
	}
	accountID, roleName, ok := originRole(c)
	if !ok {
		return nil
	}
	key := sess.ID + "\x00" + accountID + "\x00" + roleName
	if _, ok := s.holds.Get(key); ok {
		return nil
	}
	held := false
	err = s.store.Read(ctx, func(tx store.Tx) error {
		inst, err := s.instance(ctx, tx, sess.IdentityStoreID)
		if err != nil {
			return err
		}
		gs, err := s.grants(ctx, tx, inst, sess, accountID)
		if err != nil {
			return err
		}
		sets := map[string]*store.PermissionSet{}
		for _, g := range gs {
			_, p, err := provisioned(ctx, tx, inst, g, sets)
			if errors.Is(err, ErrNoAccess) {
				continue
			}
			if err != nil {
				return err
			}
			if strings.EqualFold(p.RoleName, roleName) {
				held = true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if !held {
		return creds.ErrRevoked
	}
	s.holds.Put(key, struct{}{})
	return nil
}

// originRole is the Identity Center role a session credential comes from:
// its own when it is one, else the one its chain of AssumeRole calls began
// with (role chaining from portal credentials, any number of hops) — or,
// for a credential stored before chains were recorded, the assumed-role
// ARN that asked for it.
func originRole(c *store.SessionCredential) (accountID, roleName string, ok bool) {
	if i := strings.Index(c.RoleARN, ":role"+access.RolePath); i >= 0 {
		return c.AccountID, c.RoleARN[i+len(":role"+access.RolePath):], true
	}
	origin := c.OriginARN
	if origin == "" {
		origin = c.SourceARN
	}
	rest, found := strings.CutPrefix(origin, "arn:aws:sts::")
	if !found {
		return "", "", false
	}
	accountID, rest, _ = strings.Cut(rest, ":assumed-role/")
	roleName, _, _ = strings.Cut(rest, "/")
	if !strings.HasPrefix(roleName, "AWSReservedSSO_") {
		return "", "", false
	}
	return accountID, roleName, true
}
