package awsproto

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/principal"
)

// Handler answers one operation, given its input already validated against
// the model. It returns the output value (nil for an empty output).
type Handler func(ctx context.Context, in *Input) (any, error)

// Input is a validated request body in generic form.
type Input struct {
	Value map[string]any
}

// Decode fills v (a struct whose fields carry the model's member names) from the input.
func (in *Input) Decode(v any) error {
	b, err := json.Marshal(in.Value)
	if err != nil {
		return apierr.Serialization("cannot read the request: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return apierr.Serialization("cannot read the request: %v", err)
	}
	return nil
}

// Op adapts a typed function to a Handler.
func Op[In, Out any](fn func(context.Context, *In) (*Out, error)) Handler {
	return func(ctx context.Context, in *Input) (any, error) {
		var req In
		if err := in.Decode(&req); err != nil {
			return nil, err
		}
		out, err := fn(ctx, &req)
		if err != nil || out == nil {
			return nil, err
		}
		return out, nil
	}
}

// Service is one AWS API as Atrium serves it: its model and its handlers.
// Domain packages build these; the Edge routes to them.
type Service struct {
	Model       *model.Service
	EventSource string // audit source, e.g. "organizations.amazonaws.com"
	Ops         map[string]Handler
	// Unsigned operations need no SigV4 signature (sts:AssumeRoleWithSAML, ...).
	Unsigned map[string]bool
	// Authorize decides whether p may call op; nil lets admin principals only.
	Authorize func(ctx context.Context, p *principal.Principal, op string) error
}

// IAMPrefix is the IAM action namespace of the service, e.g. "organizations".
func (s *Service) IAMPrefix() string {
	if s.Model.SigningName != "" {
		return s.Model.SigningName
	}
	return s.Model.Name
}

func (s *Service) authorize(ctx context.Context, p *principal.Principal, op string) error {
	if s.Authorize != nil {
		return s.Authorize(ctx, p, op)
	}
	if p != nil && p.Admin {
		return nil
	}
	arn := "anonymous"
	if p != nil {
		arn = p.ARN
	}
	return apierr.New(400, "AccessDeniedException", "User: %s is not authorized to perform: %s:%s", arn, s.IAMPrefix(), op)
}

// ReadOnly reports whether an operation only reads (CloudTrail's readOnly):
// such calls are not audited as changes.
func ReadOnly(op string) bool {
	for _, p := range []string{"Describe", "List", "Get", "Is"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return false
}
