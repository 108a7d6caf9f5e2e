package portal

import (
	"context"
	"errors"
	"net/http"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/audit"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/store"
)

// Tokens verifies the bearer tokens the portal API is called with
// (package oauth issues them).
type Tokens interface {
	// AccessTokenSession returns the live session an access token was
	// issued from; ErrNoSession when the token is unknown, expired or
	// revoked, or its session is not live.
	AccessTokenSession(ctx context.Context, token string) (*Session, error)
}

// API is the portal API (`sso`) as Atrium serves it: unsigned, with the
// bearer token in x-amz-sso_bearer_token, checked on every call.
func (s *Service) API(tokens Tokens) *awsproto.Service {
	a := &portalAPI{s: s, tokens: tokens}
	ops := map[string]awsproto.Handler{
		"ListAccounts":       awsproto.Op(a.listAccounts),
		"ListAccountRoles":   awsproto.Op(a.listAccountRoles),
		"GetRoleCredentials": awsproto.Op(a.getRoleCredentials),
		"Logout":             awsproto.Op(a.logout),
	}
	unsigned := map[string]bool{}
	for op := range ops {
		unsigned[op] = true
	}
	return &awsproto.Service{Model: model.MustLoad("sso"), EventSource: "sso.amazonaws.com", Ops: ops, Unsigned: unsigned,
		AuditedReads: map[string]bool{"GetRoleCredentials": true}}
}

type portalAPI struct {
	s      *Service
	tokens Tokens
}

// The portal API's errors, with AWS's words.
var (
	errUnauthorized = apierr.New(http.StatusUnauthorized, "UnauthorizedException", "Session token not found or invalid")
	// ForbiddenException is not in the model, yet it is what AWS answers
	// (403, "No access") for a role the user does not hold; the SDKs
	// surface it as a generic API error with that code.
	errForbidden = apierr.New(http.StatusForbidden, "ForbiddenException", "No access")
	errBadToken  = apierr.New(http.StatusBadRequest, "InvalidRequestException", "Invalid nextToken")
)

// session resolves the bearer token; every operation starts here.
func (a *portalAPI) session(ctx context.Context, token string) (*Session, error) {
	sess, err := a.tokens.AccessTokenSession(ctx, token)
	if errors.Is(err, ErrNoSession) {
		return nil, errUnauthorized
	}
	return sess, err
}

func pageSize(max *int) int {
	if max == nil || *max <= 0 {
		return 100
	}
	return *max
}

type listAccountsIn struct {
	AccessToken string  `json:"accessToken"`
	NextToken   *string `json:"nextToken"`
	MaxResults  *int    `json:"maxResults"`
}

type accountInfo struct {
	AccountID    string `json:"accountId"`
	AccountName  string `json:"accountName"`
	EmailAddress string `json:"emailAddress,omitempty"`
}

type listAccountsOut struct {
	AccountList []accountInfo `json:"accountList"`
	NextToken   *string       `json:"nextToken,omitempty"`
}

func (a *portalAPI) listAccounts(ctx context.Context, in *listAccountsIn) (*listAccountsOut, error) {
	sess, err := a.session(ctx, in.AccessToken)
	if err != nil {
		return nil, err
	}
	out := &listAccountsOut{AccountList: []accountInfo{}}
	return out, a.s.store.Read(ctx, func(tx store.Tx) error {
		list, next, err := awsproto.Page(a.s.pager, "sso/accounts/"+sess.UserID, in.NextToken, pageSize(in.MaxResults), errBadToken,
			func(after string, limit int) ([]AccountAccess, error) {
				return a.s.entitlements(ctx, tx, sess, "", after, limit)
			}, func(x AccountAccess) string { return x.AccountID })
		for _, x := range list {
			out.AccountList = append(out.AccountList, accountInfo{AccountID: x.AccountID, AccountName: x.AccountName, EmailAddress: x.Email})
		}
		out.NextToken = next
		return err
	})
}

type listAccountRolesIn struct {
	AccessToken string  `json:"accessToken"`
	AccountID   string  `json:"accountId"`
	NextToken   *string `json:"nextToken"`
	MaxResults  *int    `json:"maxResults"`
}

type roleInfo struct {
	RoleName  string `json:"roleName"`
	AccountID string `json:"accountId"`
}

type listAccountRolesOut struct {
	RoleList  []roleInfo `json:"roleList"`
	NextToken *string    `json:"nextToken,omitempty"`
}

func (a *portalAPI) listAccountRoles(ctx context.Context, in *listAccountRolesIn) (*listAccountRolesOut, error) {
	sess, err := a.session(ctx, in.AccessToken)
	if err != nil {
		return nil, err
	}
	out := &listAccountRolesOut{RoleList: []roleInfo{}}
	return out, a.s.store.Read(ctx, func(tx store.Tx) error {
		accts, err := a.s.entitlements(ctx, tx, sess, in.AccountID, "", 0)
		if err != nil {
			return err
		}
		var roles []string
		if len(accts) == 1 {
			roles = accts[0].Roles
		}
		list, next, err := awsproto.Page(a.s.pager, "sso/roles/"+sess.UserID+"/"+in.AccountID, in.NextToken, pageSize(in.MaxResults), errBadToken,
			func(after string, limit int) ([]string, error) {
				var page []string
				for _, r := range roles {
					if r > after && len(page) < limit {
						page = append(page, r)
					}
				}
				return page, nil
			}, func(r string) string { return r })
		for _, r := range list {
			out.RoleList = append(out.RoleList, roleInfo{RoleName: r, AccountID: in.AccountID})
		}
		out.NextToken = next
		return err
	})
}

type getRoleCredentialsIn struct {
	AccessToken string `json:"accessToken"`
	AccountID   string `json:"accountId"`
	RoleName    string `json:"roleName"`
}

type roleCredentials struct {
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	Expiration      int64  `json:"expiration"` // epoch milliseconds, as the portal API sends it
}

type getRoleCredentialsOut struct {
	RoleCredentials roleCredentials `json:"roleCredentials"`
}

func (a *portalAPI) getRoleCredentials(ctx context.Context, in *getRoleCredentialsIn) (*getRoleCredentialsOut, error) {
	sess, err := a.session(ctx, in.AccessToken)
	if err != nil {
		return nil, err
	}
	audit.Identify(ctx, sess.PrincipalARN(), a.s.AuditAccount(ctx, sess))
	c, err := a.s.RoleCredentials(ctx, sess, in.AccountID, in.RoleName)
	switch {
	case errors.Is(err, ErrNoAccess):
		return nil, errForbidden
	case errors.Is(err, ErrNoSession):
		return nil, errUnauthorized
	case err != nil:
		return nil, err
	}
	return &getRoleCredentialsOut{RoleCredentials: roleCredentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey,
		SessionToken: c.SessionToken, Expiration: c.Expiration.UnixMilli()}}, nil
}

type logoutIn struct {
	AccessToken string `json:"accessToken"`
}

// logout ends the sign-in session the token came from, as AWS's does:
// every token and role credential issued from it stops working.
func (a *portalAPI) logout(ctx context.Context, in *logoutIn) (*struct{}, error) {
	sess, err := a.session(ctx, in.AccessToken)
	if err != nil {
		return nil, err
	}
	audit.Identify(ctx, sess.PrincipalARN(), a.s.AuditAccount(ctx, sess))
	if err := a.s.EndSession(ctx, sess.ID); err != nil && !errors.Is(err, ErrNoSession) {
		return nil, err
	}
	return nil, nil
}
