package scim

import (
	"errors"
	"fmt"
	"net/http"
)

// SCIM error types (RFC 7644 section 3.12).
const (
	invalidFilter = "invalidFilter"
	tooMany       = "tooMany"
	uniqueness    = "uniqueness"
	mutability    = "mutability"
	invalidSyntax = "invalidSyntax"
	invalidPath   = "invalidPath"
	noTarget      = "noTarget"
	invalidValue  = "invalidValue"
)

// Error is an answer in the SCIM error schema: an HTTP status, for 400s and
// 409s the scimType, and a detail safe to show the client.
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("%d: %s", e.Status, e.Detail)
}

func errorf(status int, scimType, format string, args ...any) *Error {
	return &Error{Status: status, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

func badRequest(scimType, format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, scimType, format, args...)
}

func notFound(resource, id string) *Error {
	return errorf(http.StatusNotFound, "", "%s %s not found", resource, id)
}

// errorOut is the wire form; status is a string, as RFC 7644 shows it.
type errorOut struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail,omitempty"`
}

const errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

// asError turns any error into the SCIM error answered for it: errors not
// of this package are internal and say nothing about themselves.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Status: http.StatusInternalServerError, Detail: "internal error"}
}
