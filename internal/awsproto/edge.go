package awsproto

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/audit"
	"github.com/atrium-sso/atrium/internal/awsproto/sigv4"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
)

// MaxBody bounds an API request body; AWS's own limits are far below it.
const MaxBody = 1 << 20

// Authenticator verifies a request's signature and says who signed it.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request, body []byte) (*principal.Principal, error)
}

// Outcome is what the Edge reports about each API call, for metrics.
type Outcome struct {
	Service, Operation string
	Status             int
	ErrorCode          string
	Duration           time.Duration
}

// Edge is the single entry point for every AWS API on the one port: it
// recognises the protocol, authenticates, validates against the model,
// audits, and hands everything else to Next.
type Edge struct {
	Auth    Authenticator
	Audit   *audit.Store
	Log     *slog.Logger
	Observe func(Outcome)
	Next    http.Handler

	byTarget  map[string]*Service // awsJson1.1 target prefix
	bySigning map[string]*Service // awsQuery, by SigV4 signing name
}

// Register adds services to the edge.
func (e *Edge) Register(services ...*Service) {
	if e.byTarget == nil {
		e.byTarget, e.bySigning = map[string]*Service{}, map[string]*Service{}
	}
	for _, s := range services {
		switch s.Model.Protocol {
		case "json":
			e.byTarget[s.Model.TargetPrefix] = s
		case "query":
			e.bySigning[s.Model.SigningName] = s
		}
	}
}

type requestIDKey struct{}

// RequestID is the id of the request in ctx (every response carries it).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := ids.UUID()
	w.Header().Set("x-amzn-RequestId", reqID)
	ctx := context.WithValue(r.Context(), requestIDKey{}, reqID)
	r = r.WithContext(ctx)
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		e.serve(w, r, JSON)
	case isQuery(r):
		e.serve(w, r, Query)
	default:
		e.Next.ServeHTTP(w, r)
	}
}

func isQuery(r *http.Request) bool {
	if r.Method == http.MethodPost {
		ct := r.Header.Get("Content-Type")
		return strings.HasPrefix(ct, "application/x-www-form-urlencoded") && r.URL.Path == "/"
	}
	return r.Method == http.MethodGet && r.URL.Path == "/" && r.URL.Query().Get("Action") != ""
}

// call is one API call being served.
type call struct {
	proto     Protocol
	service   *Service
	op        string
	principal *principal.Principal
	status    int
	errCode   string
}

func (e *Edge) serve(w http.ResponseWriter, r *http.Request, p Protocol) {
	start := time.Now()
	ctx := r.Context()
	c := &call{proto: p}
	defer func() {
		d := time.Since(start)
		svc := "unknown"
		if c.service != nil {
			svc = c.service.Model.Name
		}
		if e.Observe != nil {
			e.Observe(Outcome{Service: svc, Operation: c.op, Status: c.status, ErrorCode: c.errCode, Duration: d})
		}
		if e.Log != nil {
			attrs := []slog.Attr{slog.String("request_id", RequestID(ctx)), slog.String("service", svc), slog.String("operation", c.op),
				slog.Int("status", c.status), slog.Duration("duration", d), slog.String("source_ip", sourceIP(r))}
			if c.principal != nil {
				attrs = append(attrs, slog.String("principal", c.principal.ARN))
			}
			if c.errCode != "" {
				attrs = append(attrs, slog.String("error_code", c.errCode))
			}
			e.Log.LogAttrs(ctx, slog.LevelInfo, "api call", attrs...)
		}
	}()
	fail := func(err error) {
		xmlns := ""
		if c.service != nil {
			xmlns = c.service.Model.XMLNamespace
		}
		if _, isAPI := apierr.As(err); !isAPI && !errors.As(err, new(*sigv4.Error)) && e.Log != nil {
			e.Log.ErrorContext(ctx, "api call failed", "request_id", RequestID(ctx), "operation", c.op, "error", err)
		}
		ae := WriteError(w, p, xmlns, RequestID(ctx), err)
		c.status, c.errCode = ae.Status, ae.Code
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		fail(apierr.Serialization("cannot read the request body"))
		return
	}
	if len(body) > MaxBody {
		fail(apierr.New(413, "RequestEntityTooLargeException", "request body exceeds %d bytes", MaxBody))
		return
	}

	var form url.Values
	if p == JSON {
		prefix, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		c.op = op
		c.service = e.byTarget[prefix]
		if c.service == nil || r.Method != http.MethodPost {
			fail(apierr.New(400, "UnknownOperationException", "The operation %q is not known", r.Header.Get("X-Amz-Target")))
			return
		}
	} else {
		if form, err = queryForm(r, body); err != nil {
			fail(apierr.New(400, "MalformedQueryString", "the request's form cannot be parsed"))
			return
		}
		c.op = form.Get("Action")
		if c.op == "" {
			fail(apierr.New(400, "MissingAction", "Missing Action"))
			return
		}
		if service, _, ok := sigv4.Peek(r); ok {
			c.service = e.bySigning[service]
		} else {
			c.service = e.unsignedQueryService(c.op)
		}
		if c.service == nil {
			if _, _, ok := sigv4.Peek(r); !ok {
				fail(&sigv4.Error{Kind: sigv4.Missing})
			} else {
				fail(apierr.New(400, "InvalidAction", "Could not find operation %s", c.op))
			}
			return
		}
	}

	if !c.service.Unsigned[c.op] {
		c.principal, err = e.Auth.Authenticate(ctx, r, body)
		if err != nil {
			fail(err)
			return
		}
		ctx = principal.With(ctx, c.principal)
	}

	opModel := c.service.Model.Operations[c.op]
	handler := c.service.Ops[c.op]
	if opModel == nil || handler == nil {
		if p == Query {
			fail(apierr.New(400, "InvalidAction", "Could not find operation %s for version %s", c.op, form.Get("Version")))
		} else {
			fail(apierr.New(400, "UnknownOperationException", "The operation %s is not known to %s", c.op, c.service.Model.Name))
		}
		return
	}
	if !c.service.Unsigned[c.op] {
		if err := c.service.authorize(ctx, c.principal, c.op); err != nil {
			fail(err)
			return
		}
	}

	var value map[string]any
	if p == JSON {
		value, err = opModel.Input.DecodeJSON(body)
	} else {
		form.Del("Action")
		form.Del("Version")
		value, err = opModel.Input.DecodeQuery(form)
	}
	if err != nil {
		fail(queryValidation(p, err))
		return
	}

	if !ReadOnly(c.op) && e.Audit != nil {
		ctx = audit.Begin(ctx, e.auditEvent(ctx, r, c, opModel.Input.Redact(value)))
	}
	out, err := handler(ctx, &Input{Value: value})
	if err != nil {
		fail(queryValidation(p, err))
		if e.Audit != nil {
			if aerr := e.Audit.Finish(ctx, c.errCode, errMessage(err)); aerr != nil && e.Log != nil {
				e.Log.ErrorContext(ctx, "audit record lost", "request_id", RequestID(ctx), "error", aerr)
			}
		}
		return
	}
	if e.Audit != nil && !ReadOnly(c.op) {
		if aerr := e.Audit.Finish(ctx, "", ""); aerr != nil {
			fail(aerr)
			return
		}
	}
	c.status = http.StatusOK
	if p == JSON {
		writeJSON(w, out)
	} else {
		writeQuery(w, c.service.Model.XMLNamespace, c.op, RequestID(ctx), out)
	}
}

func (e *Edge) unsignedQueryService(op string) *Service {
	for _, s := range e.bySigning {
		if s.Unsigned[op] {
			return s
		}
	}
	return nil
}

// queryValidation renames the JSON protocols' validation errors to the code
// awsQuery services use for the same failures.
func queryValidation(p Protocol, err error) error {
	e, ok := apierr.As(err)
	if p != Query || !ok || (e.Code != "ValidationException" && e.Code != "SerializationException") {
		return err
	}
	c := *e
	c.Code = "ValidationError"
	return &c
}

func errMessage(err error) string {
	if e, ok := apierr.As(err); ok {
		return e.Message
	}
	return "internal error"
}

func queryForm(r *http.Request, body []byte) (url.Values, error) {
	if r.Method == http.MethodGet {
		return url.ParseQuery(r.URL.RawQuery)
	}
	return url.ParseQuery(string(body))
}

func (e *Edge) auditEvent(ctx context.Context, r *http.Request, c *call, params any) store.AuditEvent {
	ev := store.AuditEvent{
		ID: ids.UUID(), Time: time.Now().UTC(), Source: c.service.EventSource, EventName: c.op,
		SourceIP: sourceIP(r), UserAgent: r.UserAgent(), RequestID: RequestID(ctx),
	}
	if c.principal != nil {
		ev.PrincipalARN, ev.AccountID, ev.AccessKeyID = c.principal.ARN, c.principal.AccountID, c.principal.AccessKeyID
	}
	if b, err := json.Marshal(params); err == nil {
		ev.RequestParams = string(b)
	}
	return ev
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeJSON(w http.ResponseWriter, out any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if out == nil {
		w.Write([]byte("{}"))
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte(`{"__type":"InternalFailure","message":"We encountered an internal error. Please try again."}`))
		return
	}
	w.Write(b)
}

// writeQuery wraps out as <OpResponse><OpResult>…</OpResult><ResponseMetadata>.
func writeQuery(w http.ResponseWriter, xmlns, op, requestID string, out any) {
	w.Header().Set("Content-Type", "text/xml")
	resp := xml.StartElement{Name: xml.Name{Local: op + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlns}}}
	enc := xml.NewEncoder(w)
	enc.EncodeToken(resp)
	if out != nil {
		enc.EncodeElement(out, xml.StartElement{Name: xml.Name{Local: op + "Result"}})
	} else {
		enc.EncodeToken(xml.StartElement{Name: xml.Name{Local: op + "Result"}})
		enc.EncodeToken(xml.EndElement{Name: xml.Name{Local: op + "Result"}})
	}
	enc.EncodeElement(struct {
		RequestID string `xml:"RequestId"`
	}{requestID}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	enc.EncodeToken(resp.End())
	enc.Flush()
}
