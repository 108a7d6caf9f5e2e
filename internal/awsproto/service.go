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

// String is the string at path in the input (a member, or a member of a
// structure member: "MemberId", "UserId"), or "" when absent.
func (in *Input) String(path ...string) string {
	var v any = in.Value
	for _, name := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[name]
	}
	s, _ := v.(string)
	return s
}

// Strings is the list of strings in the member name.
func (in *Input) Strings(name string) []string {
	list, _ := in.Value[name].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
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
	// Authorize decides whether p may call op; nil asks the Edge's Authorizer.
	Authorize func(ctx context.Context, p *principal.Principal, op string) error
	// Resources names, per operation, the resources it acts on: one ARN for
	// each resource type the Service Authorization Reference requires of
	// the action, built from the validated input (and the store, where the
	// input names a resource only through another). A role session must be
	// allowed the action on every one of them. An operation not listed acts
	// on "*", as the reference says of actions without resource types.
	Resources map[string]ResourceFunc
	// OwnAccount marks an API that acts in the caller's own account (IAM).
	// Every other signed API administers the organization, and only
	// principals of its management account may call it, as on AWS.
	OwnAccount bool
	// Fault is what the API answers a server fault with, when its model
	// names one (IAM's ServiceFailure); nil answers InternalFailure.
	Fault *apierr.Error
	// AuditedReads are operations audited although their names say they
	// only read (the portal's GetRoleCredentials issues credentials).
	AuditedReads map[string]bool
	// OAuthErrors: the API answers errors as OAuth 2.0 does, {"error",
	// "error_description"}, with the exception name in x-amzn-ErrorType
	// (sso-oidc).
	OAuthErrors bool
}

// IAMPrefix is the IAM action namespace of the service, e.g. "organizations".
func (s *Service) IAMPrefix() string {
	if s.Model.SigningName != "" {
		return s.Model.SigningName
	}
	return s.Model.Name
}

// ResourceFunc names the resources an operation acts on (see Service.Resources).
type ResourceFunc func(ctx context.Context, in *Input) ([]string, error)

// Authorizer decides whether an authenticated caller may take an action.
// The Edge asks it before every signed call whose Service has no Authorize
// of its own; handlers that act on a resource named in their input ask it
// again for that resource (sts:AssumeRole on a role).
type Authorizer interface {
	Authorize(ctx context.Context, a Access) error
}

// Access is one action a caller asks to take.
type Access struct {
	Principal *principal.Principal
	Action    string // "<IAM prefix>:<operation>"
	Resource  string // an ARN, or "*" when the operation names none
	// ManagementOnly: the API administers the organization, so only the
	// management account's principals may call it.
	ManagementOnly  bool
	SourceIP        string
	SecureTransport bool
}

// AccessOf is the caller in ctx asking to take action on resource.
func AccessOf(ctx context.Context, action, resource string) Access {
	o, _ := ctx.Value(originKey{}).(origin)
	return Access{Principal: principal.From(ctx), Action: action, Resource: resource, SourceIP: o.ip, SecureTransport: o.secure}
}

// AccessDenied is the answer to an action the caller may not take (the
// JSON protocols' AccessDeniedException; awsQuery renders it AccessDenied, 403).
func AccessDenied(a Access) *apierr.Error {
	arn := "anonymous"
	if a.Principal != nil {
		arn = a.Principal.ARN
	}
	if a.Resource != "" && a.Resource != "*" {
		return apierr.New(400, "AccessDeniedException", "User: %s is not authorized to perform: %s on resource: %s", arn, a.Action, a.Resource)
	}
	return apierr.New(400, "AccessDeniedException", "User: %s is not authorized to perform: %s", arn, a.Action)
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
