package creds

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/authz"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
)

// Session lengths, as STS sets them.
const (
	defaultSessionDuration = time.Hour
	// chainedSessionMax caps a session a role session assumes (role chaining).
	chainedSessionMax = time.Hour
)

// STS serves the sts API: who the caller is, and temporary credentials for roles.
type STS struct {
	store store.Store
	authz *authz.Authorizer
	now   func() time.Time
}

// NewSTS serves STS from s (the audited store), deciding AssumeRole with a.
func NewSTS(s store.Store, a *authz.Authorizer) *STS {
	return &STS{store: s, authz: a, now: time.Now}
}

// API is the sts service.
func (s *STS) API() *awsproto.Service {
	return &awsproto.Service{
		Model:       model.MustLoad("sts"),
		EventSource: "sts.amazonaws.com",
		Ops: map[string]awsproto.Handler{
			"GetCallerIdentity": awsproto.Op(getCallerIdentity),
			"AssumeRole":        awsproto.Op(s.assumeRole),
		},
		// Anyone who can sign may ask who they are, as on AWS; AssumeRole
		// is decided on the role it names, by the handler.
		Authorize: func(ctx context.Context, p *principal.Principal, op string) error { return nil },
	}
}

type getCallerIdentityInput struct{}

type getCallerIdentityOutput struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

func getCallerIdentity(ctx context.Context, _ *getCallerIdentityInput) (*getCallerIdentityOutput, error) {
	p := principal.From(ctx)
	return &getCallerIdentityOutput{UserID: p.UserID, Account: p.AccountID, Arn: p.ARN}, nil
}

type assumeRoleInput struct {
	RoleArn         string
	RoleSessionName string
	DurationSeconds *int
	ExternalId      *string
	// Refused: session policies and tags would have to be kept with the
	// credentials and evaluated on every call, and MFA needs devices; none
	// exist here yet, and ignoring them would grant more than was asked.
	Policy            *string
	PolicyArns        []any
	Tags              []any
	TransitiveTagKeys []any
	SerialNumber      *string
	TokenCode         *string
	SourceIdentity    *string
	ProvidedContexts  []any
}

type assumeRoleOutput struct {
	Credentials struct {
		AccessKeyId     string
		SecretAccessKey string
		SessionToken    string
		Expiration      awsproto.Timestamp
	}
	AssumedRoleUser struct {
		AssumedRoleId string
		Arn           string
	}
}

// roleARN is arn:aws:iam::<12 digits>:role<path><name>, path "/" or /…/.
var roleARN = regexp.MustCompile(`^arn:aws:iam::(\d{12}):role(/(?:[\x21-\x7e]+/)?)([\w+=,.@-]{1,64})$`)

func (s *STS) assumeRole(ctx context.Context, in *assumeRoleInput) (*assumeRoleOutput, error) {
	if err := refuseUnsupported(in); err != nil {
		return nil, err
	}
	m := roleARN.FindStringSubmatch(in.RoleArn)
	if m == nil {
		return nil, apierr.New(400, "ValidationError", "Request ARN is invalid")
	}
	accountID, path, name := m[1], m[2], m[3]
	access := awsproto.AccessOf(ctx, "sts:AssumeRole", in.RoleArn)
	caller := access.Principal

	var role *store.IAMRole
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		role, err = tx.GetRole(ctx, accountID, name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && role.Path != path) {
		// As STS does, a missing role is not told apart from a refused one.
		return nil, awsproto.AccessDenied(access)
	}
	if err != nil {
		return nil, err
	}
	access.Resource = role.ARN() // as stored: the name in the request may differ in case
	keys := map[string][]string{"sts:RoleSessionName": {in.RoleSessionName}}
	if in.ExternalId != nil {
		keys["sts:ExternalId"] = []string{*in.ExternalId}
	}
	if err := s.authz.AuthorizeAssumeRole(ctx, access, role, keys); err != nil {
		return nil, err
	}

	duration := defaultSessionDuration
	if in.DurationSeconds != nil {
		duration = time.Duration(*in.DurationSeconds) * time.Second
	}
	maxSession := time.Duration(role.MaxSessionDuration) * time.Second
	if maxSession == 0 {
		maxSession = defaultSessionDuration
	}
	sessionID := ""
	if caller.Role != nil {
		if duration > chainedSessionMax {
			return nil, apierr.New(400, "ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
		}
		// A chained session ends with the sign-in session its caller came from.
		sessionID = caller.Role.SessionID
	}
	if duration > maxSession {
		return nil, apierr.New(400, "ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}

	var issued *Issued
	err = s.store.Write(ctx, func(tx store.Tx) error {
		origin := ""
		if caller.Role != nil {
			// A chained session also ends with the role its chain began
			// with (an Identity Center role whose assignment goes): it
			// carries that role's session along.
			c, err := tx.GetSessionCredential(ctx, caller.AccessKeyID)
			if errors.Is(err, store.ErrNotFound) { // expired and swept meanwhile
				return awsproto.AccessDenied(access)
			}
			if err != nil {
				return err
			}
			origin = ChainOrigin(c)
		}
		var err error
		issued, err = Issue(ctx, tx, RoleSession{Role: role, SessionName: in.RoleSessionName, SourceARN: caller.ARN,
			SessionID: sessionID, OriginARN: origin, Duration: duration}, s.now())
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &assumeRoleOutput{}
	c := &out.Credentials
	c.AccessKeyId, c.SecretAccessKey, c.SessionToken = issued.AccessKeyID, issued.SecretAccessKey, issued.SessionToken
	c.Expiration = awsproto.Timestamp(issued.Expiration)
	out.AssumedRoleUser.AssumedRoleId, out.AssumedRoleUser.Arn = issued.AssumedRoleID, issued.AssumedRoleARN
	return out, nil
}

// refuseUnsupported answers ValidationError for AssumeRole parameters
// Atrium does not honour (see assumeRoleInput).
func refuseUnsupported(in *assumeRoleInput) error {
	for _, p := range []struct {
		name string
		set  bool
	}{
		{"Policy", in.Policy != nil},
		{"PolicyArns", len(in.PolicyArns) > 0},
		{"Tags", len(in.Tags) > 0},
		{"TransitiveTagKeys", len(in.TransitiveTagKeys) > 0},
		{"SerialNumber", in.SerialNumber != nil},
		{"TokenCode", in.TokenCode != nil},
		{"SourceIdentity", in.SourceIdentity != nil},
		{"ProvidedContexts", len(in.ProvidedContexts) > 0},
	} {
		if p.set {
			return apierr.New(400, "ValidationError", "%s is not supported by this server's AssumeRole", p.name)
		}
	}
	return nil
}
