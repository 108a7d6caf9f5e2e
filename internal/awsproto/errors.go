package awsproto

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto/sigv4"
)

// Protocol is a wire style; each renders errors its own way.
type Protocol int

const (
	JSON  Protocol = iota // awsJson1.1 and restJson1: {"__type", "message"}
	Query                 // awsQuery: <ErrorResponse> XML
	OAuth                 // restJson1 speaking OAuth 2.0 (sso-oidc): {"error", "error_description"}
)

// authError turns a SigV4 failure into the error each protocol's SDKs expect
// (as AWS answers: Query services 403 with InvalidClientTokenId,
// SignatureDoesNotMatch and ExpiredToken, JSON services 400 with
// UnrecognizedClientException, InvalidSignatureException and
// ExpiredTokenException; a skewed clock is a signature error there).
func authError(p Protocol, err error) *apierr.Error {
	var se *sigv4.Error
	if !errors.As(err, &se) {
		return nil
	}
	type pair struct {
		status int
		code   string
		msg    string
	}
	var q, j pair
	switch se.Kind {
	case sigv4.Missing:
		q = pair{403, "MissingAuthenticationToken", "Request is missing Authentication Token"}
		j = pair{400, "MissingAuthenticationTokenException", "Request is missing Authentication Token"}
	case sigv4.UnknownKey:
		msg := "The security token included in the request is invalid."
		q = pair{403, "InvalidClientTokenId", msg}
		j = pair{400, "UnrecognizedClientException", msg}
	case sigv4.Expired:
		q = pair{403, "SignatureDoesNotMatch", se.Msg}
		j = pair{400, "InvalidSignatureException", se.Msg}
	case sigv4.ScopeMismatch:
		q = pair{403, "SignatureDoesNotMatch", se.Msg}
		j = pair{400, "InvalidSignatureException", se.Msg}
	case sigv4.ExpiredToken:
		msg := "The security token included in the request is expired"
		q = pair{403, "ExpiredToken", msg}
		j = pair{400, "ExpiredTokenException", msg}
	case sigv4.BadSignature:
		msg := "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
		q = pair{403, "SignatureDoesNotMatch", msg}
		j = pair{400, "InvalidSignatureException", msg}
	default: // Malformed
		q = pair{400, "IncompleteSignature", se.Msg}
		j = pair{400, "IncompleteSignatureException", se.Msg}
	}
	if p == Query {
		return &apierr.Error{Status: q.status, Code: q.code, Message: q.msg}
	}
	return &apierr.Error{Status: j.status, Code: j.code, Message: j.msg}
}

// WriteError renders err for protocol p; anything that is not an API error
// becomes a 500 InternalFailure without detail.
func WriteError(w http.ResponseWriter, p Protocol, xmlns string, requestID string, err error) *apierr.Error {
	e, ok := apierr.As(err)
	if !ok {
		if e = authError(p, err); e == nil {
			e = apierr.Internal()
		}
	}
	status := e.Status
	if status == 0 {
		status = http.StatusBadRequest
	}
	h := w.Header()
	h.Set("x-amzn-RequestId", requestID)
	if p == OAuth {
		return writeOAuthError(w, oauthEquivalent(e), status)
	}
	if p == Query {
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		kind := "Sender"
		if e.Receiver {
			kind = "Receiver"
		}
		body := queryErrorResponse{Xmlns: xmlns, RequestID: requestID}
		body.Error.Type, body.Error.Code, body.Error.Message = kind, e.Code, e.Message
		w.Write([]byte(xml.Header))
		xml.NewEncoder(w).Encode(body)
		return e
	}
	h.Set("Content-Type", "application/x-amz-json-1.1")
	h.Set("x-amzn-ErrorType", e.Code)
	w.WriteHeader(status)
	body := make(map[string]any, len(e.Fields)+2)
	for k, v := range e.Fields {
		body[k] = v
	}
	body["__type"] = e.Code
	body["message"] = e.Message
	b, _ := json.Marshal(body)
	w.Write(b)
	return e
}

// oauthEquivalents are, for the errors the edge itself raises, the
// sso-oidc exception and OAuth error code that mean the same.
var oauthEquivalents = map[string][2]string{
	"ValidationException":            {"InvalidRequestException", "invalid_request"},
	"SerializationException":         {"InvalidRequestException", "invalid_request"},
	"RequestEntityTooLargeException": {"InvalidRequestException", "invalid_request"},
	"InternalFailure":                {"InternalServerException", "server_error"},
}

func oauthEquivalent(e *apierr.Error) *apierr.Error {
	eq, ok := oauthEquivalents[e.Code]
	if !ok || e.Fields["error"] != nil {
		return e
	}
	c := e.With("error", eq[1])
	c.Code = eq[0]
	return c
}

// writeOAuthError renders e as sso-oidc does: the OAuth error code and
// description (plus any other member of the exception) in the body, the
// exception name in x-amzn-ErrorType, which is what the SDKs match on.
func writeOAuthError(w http.ResponseWriter, e *apierr.Error, status int) *apierr.Error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-ErrorType", e.Code)
	w.WriteHeader(status)
	body := make(map[string]any, len(e.Fields)+1)
	for k, v := range e.Fields {
		body[k] = v
	}
	body["error_description"] = e.Message
	b, _ := json.Marshal(body)
	w.Write(b)
	return e
}

type queryErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

// StatusText is the outcome label used in metrics and logs.
func StatusText(status int) string { return strconv.Itoa(status) }
