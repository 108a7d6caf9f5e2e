package creds

import (
	"context"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/principal"
)

type getCallerIdentityInput struct{}

type getCallerIdentityOutput struct {
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
	Arn     string `xml:"Arn"`
}

// STS is the sts API: for now who the caller is.
func STS() *awsproto.Service {
	return &awsproto.Service{
		Model:       model.MustLoad("sts"),
		EventSource: "sts.amazonaws.com",
		Ops: map[string]awsproto.Handler{
			"GetCallerIdentity": awsproto.Op(getCallerIdentity),
		},
		// Anyone who can sign may ask who they are, as on AWS.
		Authorize: func(ctx context.Context, p *principal.Principal, op string) error { return nil },
	}
}

func getCallerIdentity(ctx context.Context, _ *getCallerIdentityInput) (*getCallerIdentityOutput, error) {
	p := principal.From(ctx)
	return &getCallerIdentityOutput{UserID: p.UserID, Account: p.AccountID, Arn: p.ARN}, nil
}
