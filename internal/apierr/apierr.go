// Package apierr is the one error type that crosses from domain code to the
// protocol writers: an AWS error code (the exception name the SDKs match on),
// its HTTP status, a message, and the structured members some APIs add
// (Reason, ResourceType, ...). Protocol packages render it; they never decide it.
package apierr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an API error as AWS would return it.
type Error struct {
	Code    string         // exception name, e.g. "AccountNotFoundException"
	Status  int            // HTTP status
	Message string         // human text, sent as "message" / <Message>
	Fields  map[string]any // extra members of the exception shape (e.g. "Reason")
	// Receiver marks a server-side fault; Query errors render <Type>Receiver</Type>.
	Receiver bool
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// With returns a copy of e with one more structured member.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Fields = make(map[string]any, len(e.Fields)+1)
	for k, v := range e.Fields {
		c.Fields[k] = v
	}
	c.Fields[key] = value
	return &c
}

// New builds a client error (HTTP 400 unless status says otherwise).
func New(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

// Validation is AWS's ValidationException for input that breaks the model.
func Validation(format string, args ...any) *Error {
	return New(http.StatusBadRequest, "ValidationException", format, args...)
}

// Serialization is for bodies that cannot be read as the operation's input.
func Serialization(format string, args ...any) *Error {
	return New(http.StatusBadRequest, "SerializationException", format, args...)
}

// Internal is a server fault; its message never carries details of the cause.
func Internal() *Error {
	return &Error{Code: "InternalFailure", Status: http.StatusInternalServerError,
		Message: "We encountered an internal error. Please try again.", Receiver: true}
}

// As finds an *Error in err's chain.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}
