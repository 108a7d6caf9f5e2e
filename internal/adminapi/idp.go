package adminapi

import (
	"context"
	"encoding/json"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/federation"
)

// Sources is what the API needs of the identity sources (package federation).
type Sources interface {
	CreateSource(ctx context.Context, in federation.SourceInput) (*federation.Source, error)
	UpdateSource(ctx context.Context, in federation.SourceInput) (*federation.Source, error)
	DeleteSource(ctx context.Context, name string) error
	GetSource(ctx context.Context, name string) (*federation.Source, error)
	ListSources(ctx context.Context) ([]federation.Source, error)
	SourceUserCount(ctx context.Context, src *federation.Source) (int, error)
	SetUserSource(ctx context.Context, identityStoreID, userID, sourceName string) error
	Endpoints(src *federation.Source) map[string]string
}

// sourceOps manage the identity sources (`atrium idp …`) and which one a
// user signs in through (`atrium user set-source`).
func sourceOps(sources Sources) map[string]awsproto.Handler {
	out := func(src *federation.Source) sourceOut {
		domains := src.EmailDomains
		if domains == nil {
			domains = []string{}
		}
		return sourceOut{SourceId: src.ID, Name: src.Name, Type: src.Kind, Enabled: src.Enabled, EmailDomains: domains, Mfa: src.MFA,
			JustInTime: src.JIT, Configuration: federation.PublicConfig(src), Endpoints: sources.Endpoints(src),
			CreatedAt: awsproto.Timestamp(src.CreatedAt), UpdatedAt: awsproto.Timestamp(src.UpdatedAt)}
	}
	return map[string]awsproto.Handler{
		"CreateIdentitySource": awsproto.Op(func(ctx context.Context, in *sourceIn) (*sourceResult, error) {
			src, err := sources.CreateSource(ctx, in.input())
			if err != nil {
				return nil, err
			}
			return &sourceResult{IdentitySource: out(src)}, nil
		}),
		"UpdateIdentitySource": awsproto.Op(func(ctx context.Context, in *sourceIn) (*sourceResult, error) {
			src, err := sources.UpdateSource(ctx, in.input())
			if err != nil {
				return nil, err
			}
			return &sourceResult{IdentitySource: out(src)}, nil
		}),
		"DescribeIdentitySource": awsproto.Op(func(ctx context.Context, in *sourceNameIn) (*describeSourceOut, error) {
			src, err := sources.GetSource(ctx, in.Name)
			if err != nil {
				return nil, err
			}
			n, err := sources.SourceUserCount(ctx, src)
			if err != nil {
				return nil, err
			}
			return &describeSourceOut{IdentitySource: out(src), UserCount: n}, nil
		}),
		"ListIdentitySources": awsproto.Op(func(ctx context.Context, _ *struct{}) (*listSourcesOut, error) {
			list, err := sources.ListSources(ctx)
			if err != nil {
				return nil, err
			}
			res := &listSourcesOut{IdentitySources: make([]sourceOut, len(list))}
			for i := range list {
				res.IdentitySources[i] = out(&list[i])
			}
			return res, nil
		}),
		"DeleteIdentitySource": awsproto.Op(func(ctx context.Context, in *sourceNameIn) (*struct{}, error) {
			return nil, sources.DeleteSource(ctx, in.Name)
		}),
		"SetUserIdentitySource": awsproto.Op(func(ctx context.Context, in *setUserSourceIn) (*struct{}, error) {
			return nil, sources.SetUserSource(ctx, in.IdentityStoreId, in.UserId, in.SourceName)
		}),
	}
}

type sourceIn struct {
	Name          string
	NewName       *string
	Type          string
	Enabled       *bool
	EmailDomains  *[]string
	Mfa           *string
	JustInTime    *bool
	Configuration *string
	ClientSecret  *string
}

func (in *sourceIn) input() federation.SourceInput {
	s := federation.SourceInput{Name: in.Name, NewName: in.NewName, Kind: in.Type, Enabled: in.Enabled, EmailDomains: in.EmailDomains,
		MFA: in.Mfa, JIT: in.JustInTime, ClientSecret: in.ClientSecret}
	if in.Configuration != nil {
		s.Config = json.RawMessage(*in.Configuration)
	}
	return s
}

type sourceNameIn struct{ Name string }

type setUserSourceIn struct {
	IdentityStoreId string
	UserId          string
	SourceName      string
}

type sourceOut struct {
	SourceId      string
	Name          string
	Type          string
	Enabled       bool
	EmailDomains  []string
	Mfa           string
	JustInTime    bool
	Configuration string
	Endpoints     map[string]string
	CreatedAt     awsproto.Timestamp
	UpdatedAt     awsproto.Timestamp
}

type sourceResult struct{ IdentitySource sourceOut }

type describeSourceOut struct {
	IdentitySource sourceOut
	UserCount      int
}

type listSourcesOut struct{ IdentitySources []sourceOut }
