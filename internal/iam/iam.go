// Package iam is IAM inside the organization's accounts: the roles that
// provisioning and account creation put there and the customer managed
// policies their owners write, served as the subset of the IAM API that
// Identity Center's clients read. Every call acts in the caller's account.
package iam

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
)

// Service is the IAM API over the store.
type Service struct {
	store store.Store
	pager *awsproto.Pager
}

// New builds the service over s (the audited store).
func New(s store.Store, pager *awsproto.Pager) *Service { return &Service{store: s, pager: pager} }

// API is IAM as Atrium serves it.
func (s *Service) API() *awsproto.Service {
	return &awsproto.Service{
		Model:       model.MustLoad("iam"),
		EventSource: "iam.amazonaws.com",
		Resources:   s.resources(),
		Ops: map[string]awsproto.Handler{
			"GetRole":                  awsproto.Op(s.getRole),
			"ListRoles":                awsproto.Op(s.listRoles),
			"ListAttachedRolePolicies": awsproto.Op(s.listAttachedRolePolicies),
			"ListRolePolicies":         awsproto.Op(s.listRolePolicies),
			"GetRolePolicy":            awsproto.Op(s.getRolePolicy),
			"CreatePolicy":             awsproto.Op(s.createPolicy),
			"GetPolicy":                awsproto.Op(s.getPolicy),
			"GetPolicyVersion":         awsproto.Op(s.getPolicyVersion),
			"ListPolicies":             awsproto.Op(s.listPolicies),
			"DeletePolicy":             awsproto.Op(s.deletePolicy),
		},
		// IAM acts in the caller's account: any account's principals may call it.
		OwnAccount: true,
		Fault: &apierr.Error{Code: "ServiceFailure", Status: http.StatusInternalServerError,
			Message: "Request processing has failed due to some unknown error, exception or failure.", Receiver: true},
	}
}

// --- errors, as IAM names them

func noSuchEntity(format string, args ...any) *apierr.Error {
	return apierr.New(http.StatusNotFound, "NoSuchEntity", format, args...)
}

func entityAlreadyExists(format string, args ...any) *apierr.Error {
	return apierr.New(http.StatusConflict, "EntityAlreadyExists", format, args...)
}

func malformedPolicy(msg string) *apierr.Error {
	return apierr.New(http.StatusBadRequest, "MalformedPolicyDocument", "%s", msg)
}

func invalidInput(format string, args ...any) *apierr.Error {
	return apierr.New(http.StatusBadRequest, "InvalidInput", format, args...)
}

func limitExceeded(quota string, n int) *apierr.Error {
	return apierr.New(http.StatusConflict, "LimitExceeded", "Cannot exceed quota for %s: %d", quota, n)
}

func deleteConflict(format string, args ...any) *apierr.Error {
	return apierr.New(http.StatusConflict, "DeleteConflict", format, args...)
}

// accessDenied is IAM's answer for a resource of another account: IAM
// entities have no resource policy that could let the caller in.
func accessDenied(ctx context.Context, op, resource string) *apierr.Error {
	return apierr.New(http.StatusForbidden, "AccessDenied",
		"User: %s is not authorized to perform: iam:%s on resource: %s because no resource-based policy allows the iam:%s action",
		principal.From(ctx).ARN, op, resource, op)
}

var errBadMarker = apierr.Validation("Invalid Marker.")

// notFoundAs turns store.ErrNotFound into e and passes other errors through.
func notFoundAs(err error, e *apierr.Error) error {
	if errors.Is(err, store.ErrNotFound) {
		return e
	}
	return err
}

// --- the caller's account

// account is the account IAM acts in: the caller's own.
func account(ctx context.Context) string { return principal.From(ctx).AccountID }

// --- wire helpers

// members is an awsQuery list: <Name><member>…</member></Name>, present
// (empty) even when there is nothing in it, as IAM writes it.
type members[T any] []T

func (m members[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	for _, v := range m {
		if err := e.EncodeElement(v, xml.StartElement{Name: xml.Name{Local: "member"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// urlEncode percent-encodes a policy document as IAM returns documents:
// everything but RFC 3986's unreserved characters.
func urlEncode(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// pageSize is MaxItems, IAM's default being 100.
func pageSize(max *int) int {
	if max == nil || *max <= 0 {
		return 100
	}
	return *max
}

// page is the common tail of IAM's list outputs.
type page struct {
	IsTruncated bool
	Marker      *string `xml:",omitempty"`
}

func pageOf(next *string) page { return page{IsTruncated: next != nil, Marker: next} }
