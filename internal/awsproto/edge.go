package awsproto

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/audit"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
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
	// Authorizer decides signed calls by policy; nil lets only Admin principals in.
	Authorizer Authorizer
	// Regions a credential scope may name: the configured region and us-east-1,
	// where the SDKs sign the global services (Organizations, IAM). Nil allows any.
	Regions map[string]bool

	byTarget  map[string]*Service // awsJson1.1 target prefix
	bySigning map[string]*Service // awsQuery, by SigV4 signing name
	rest      *http.ServeMux      // restJson1 routes from the models' HTTP bindings
	restOps   map[string][]restOp // by mux pattern
}

// restOp is a restJson1 operation bound to a route; query is a literal
// the model puts in its URI (POST /token?aws_iam=t), "" if none.
type restOp struct {
	service *Service
	op      string
	query   string
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
		case "rest-json":
			e.registerREST(s)
		}
	}
}

// registerREST routes each operation of s by its model's HTTP binding.
func (e *Edge) registerREST(s *Service) {
	if e.rest == nil {
		e.rest, e.restOps = http.NewServeMux(), map[string][]restOp{}
	}
	for name := range s.Ops {
		op := s.Model.Operations[name]
		if op == nil {
			panic("awsproto: " + s.Model.Name + " has no operation " + name)
		}
		path, query, _ := strings.Cut(op.RequestURI, "?")
		path = strings.ReplaceAll(path, "+}", "...}")
		pattern := op.HTTPMethod + " " + path
		if _, seen := e.restOps[pattern]; !seen {
			e.rest.Handle(pattern, http.NotFoundHandler()) // only used to match
		}
		ro := restOp{service: s, op: name, query: query}
		// Operations with a query literal are tried first.
		if query != "" {
			e.restOps[pattern] = append([]restOp{ro}, e.restOps[pattern]...)
		} else {
			e.restOps[pattern] = append(e.restOps[pattern], ro)
		}
	}
}

// restRoute finds the restJson1 operation for r, if any.
func (e *Edge) restRoute(r *http.Request) (*restOp, string) {
	if e.rest == nil {
		return nil, ""
	}
	_, pattern := e.rest.Handler(r)
	for _, ro := range e.restOps[pattern] {
		if ro.query == "" {
			return &ro, pattern
		}
		k, v, _ := strings.Cut(ro.query, "=")
		if q := r.URL.Query(); q.Has(k) && (v == "" || q.Get(k) == v) {
			return &ro, pattern
		}
	}
	return nil, ""
}

type requestIDKey struct{}

// origin is where a request came from, for the policy conditions about it
// (aws:SourceIp, aws:SecureTransport).
type origin struct {
	ip     string
	secure bool
}

type originKey struct{}

// RequestID is the id of the request in ctx (every response carries it).
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

func (e *Edge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := ids.UUID()
	w.Header().Set("x-amzn-RequestId", reqID)
	ctx := context.WithValue(r.Context(), requestIDKey{}, reqID)
	ctx = context.WithValue(ctx, originKey{}, origin{ip: sourceIP(r), secure: r.TLS != nil})
	r = r.WithContext(ctx)
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		e.serve(w, r, JSON)
	case isQuery(r):
		e.serve(w, r, Query)
	default:
		if ro, pattern := e.restRoute(r); ro != nil {
			e.serveREST(w, r, ro, pattern)
			return
		}
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
	start     time.Time
}

// finish reports the call to metrics and the log.
func (e *Edge) finish(r *http.Request, c *call) {
	d := time.Since(c.start)
	svc, op := "unknown", "unknown"
	if c.service != nil {
		svc = c.service.Model.Name
		if c.service.Ops[c.op] != nil {
			op = c.op // only modelled names: a client must not mint label values
		}
	}
	if e.Observe != nil {
		e.Observe(Outcome{Service: svc, Operation: op, Status: c.status, ErrorCode: c.errCode, Duration: d})
	}
	if e.Log != nil {
		attrs := []slog.Attr{slog.String("request_id", RequestID(r.Context())), slog.String("service", svc), slog.String("operation", op),
			slog.Int("status", c.status), slog.Duration("duration", d), slog.String("source_ip", sourceIP(r))}
		if c.principal != nil {
			attrs = append(attrs, slog.String("principal", c.principal.ARN))
		}
		if c.errCode != "" {
			attrs = append(attrs, slog.String("error_code", c.errCode))
		}
		e.Log.LogAttrs(r.Context(), slog.LevelInfo, "api call", attrs...)
	}
}

// fail answers the call with err, in its protocol's shape.
func (e *Edge) fail(w http.ResponseWriter, r *http.Request, c *call, err error) {
	xmlns := ""
	if c.service != nil {
		xmlns = c.service.Model.XMLNamespace
	}
	if _, isAPI := apierr.As(err); !isAPI && !errors.As(err, new(*sigv4.Error)) {
		if e.Log != nil {
			e.Log.ErrorContext(r.Context(), "api call failed", "request_id", RequestID(r.Context()), "operation", c.op, "error", err)
		}
		if c.service != nil && c.service.Fault != nil {
			err = c.service.Fault
		}
	}
	ae := WriteError(w, c.proto, xmlns, RequestID(r.Context()), withRequestID(r.Context(), c.service, queryValidation(c.proto, err)))
	c.status, c.errCode = ae.Status, ae.Code
}

// withRequestID fills the RequestId member of exceptions whose model has
// one (identitystore's do), whoever raised them: the edge or a handler.
func withRequestID(ctx context.Context, s *Service, err error) error {
	e, ok := apierr.As(err)
	if !ok || s == nil || e.Fields["RequestId"] != nil {
		return err
	}
	if shape := s.Model.Shapes[e.Code]; shape != nil && shape.Members["RequestId"] != nil {
		return e.With("RequestId", RequestID(ctx))
	}
	return err
}

func readBody(r *http.Request) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, apierr.Serialization("cannot read the request body")
	}
	if len(body) > MaxBody {
		return nil, apierr.New(413, "RequestEntityTooLargeException", "request body exceeds %d bytes", MaxBody)
	}
	return body, nil
}

// serve identifies an awsJson1.1 or awsQuery call, then runs it.
func (e *Edge) serve(w http.ResponseWriter, r *http.Request, p Protocol) {
	c := &call{proto: p, start: time.Now()}
	defer e.finish(r, c)
	body, err := readBody(r)
	if err != nil {
		e.fail(w, r, c, err)
		return
	}
	if p == JSON {
		prefix, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
		c.op = op
		c.service = e.byTarget[prefix]
		if c.service == nil || r.Method != http.MethodPost {
			e.fail(w, r, c, apierr.New(400, "UnknownOperationException", "The operation %q is not known", r.Header.Get("X-Amz-Target")))
			return
		}
		e.run(w, r, c, body, func(in *model.Shape) (map[string]any, error) { return in.DecodeJSON(body) })
		return
	}
	form, err := queryForm(r, body)
	if err != nil {
		e.fail(w, r, c, apierr.New(400, "MalformedQueryString", "the request's form cannot be parsed"))
		return
	}
	c.op = form.Get("Action")
	if c.op == "" {
		e.fail(w, r, c, apierr.New(400, "MissingAction", "Missing Action"))
		return
	}
	service, _, signed := sigv4.Peek(r)
	if signed {
		c.service = e.bySigning[service]
	} else {
		c.service = e.unsignedQueryService(c.op)
	}
	switch {
	case c.service == nil && !signed:
		e.fail(w, r, c, &sigv4.Error{Kind: sigv4.Missing})
		return
	case c.service == nil:
		e.fail(w, r, c, apierr.New(400, "InvalidAction", "Could not find operation %s", c.op))
		return
	}
	version := form.Get("Version")
	form.Del("Action")
	form.Del("Version")
	if c.service.Model.Operations[c.op] == nil || c.service.Ops[c.op] == nil {
		e.fail(w, r, c, apierr.New(400, "InvalidAction", "Could not find operation %s for version %s", c.op, version))
		return
	}
	e.run(w, r, c, body, func(in *model.Shape) (map[string]any, error) { return in.DecodeQuery(form) })
}

// serveREST runs a restJson1 call matched by its route.
func (e *Edge) serveREST(w http.ResponseWriter, r *http.Request, ro *restOp, pattern string) {
	c := &call{proto: JSON, service: ro.service, op: ro.op, start: time.Now()}
	if ro.service.OAuthErrors {
		c.proto = OAuth
	}
	defer e.finish(r, c)
	body, err := readBody(r)
	if err != nil {
		e.fail(w, r, c, err)
		return
	}
	labels := map[string]string{}
	for _, seg := range strings.Split(pattern, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			name = strings.TrimSuffix(strings.TrimSuffix(name, "}"), "...")
			labels[name] = r.PathValue(name)
		}
	}
	e.run(w, r, c, body, func(in *model.Shape) (map[string]any, error) {
		return in.DecodeREST(body, r.Header, r.URL.Query(), labels)
	})
}

// run authenticates, authorises, validates, audits and answers a call
// whose service and operation are known.
func (e *Edge) run(w http.ResponseWriter, r *http.Request, c *call, body []byte, decode func(*model.Shape) (map[string]any, error)) {
	ctx := r.Context()
	unsigned := c.service.Unsigned[c.op]
	if !unsigned {
		if err := e.checkScope(r, c.service); err != nil {
			e.fail(w, r, c, err)
			return
		}
		var err error
		if c.principal, err = e.Auth.Authenticate(ctx, r, body); err != nil {
			e.fail(w, r, c, err)
			return
		}
		ctx = principal.With(ctx, c.principal)
	}
	opModel, handler := c.service.Model.Operations[c.op], c.service.Ops[c.op]
	if opModel == nil || handler == nil {
		e.fail(w, r, c, apierr.New(400, "UnknownOperationException", "The operation %s is not known to %s", c.op, c.service.Model.Name))
		return
	}
	value, err := decode(opModel.Input)
	if err != nil {
		e.fail(w, r, c, err)
		return
	}
	in := &Input{Value: value}
	if !unsigned {
		// After validation, as AWS does: the resources come from the input.
		if err := e.authorize(ctx, c, in); err != nil {
			e.fail(w, r, c, err)
			return
		}
	}
	audited := e.Audit != nil && (!ReadOnly(c.op) || c.service.AuditedReads[c.op])
	if audited {
		ctx = audit.Begin(ctx, e.auditEvent(ctx, r, c, opModel.Input.Redact(value)))
	}
	out, err := handler(ctx, in)
	if audited {
		code, msg := "", ""
		if err != nil {
			ae, ok := apierr.As(queryValidation(c.proto, err))
			if !ok {
				ae = apierr.Internal()
			}
			code, msg = ae.Code, ae.Message
		}
		if aerr := e.Audit.Finish(ctx, code, msg); aerr != nil && err == nil {
			err = fmt.Errorf("audit record: %w", aerr)
		} else if aerr != nil && e.Log != nil {
			e.Log.ErrorContext(ctx, "audit record lost", "request_id", RequestID(ctx), "error", aerr)
		}
	}
	if err != nil {
		e.fail(w, r, c, err)
		return
	}
	c.status = http.StatusOK
	if c.proto == Query {
		writeQuery(w, c.service.Model.XMLNamespace, c.op, RequestID(ctx), out)
		return
	}
	if opModel.ResponseCode != 0 {
		c.status = opModel.ResponseCode
	}
	contentType := "application/x-amz-json-1.1"
	if c.service.Model.Protocol == "rest-json" {
		contentType = "application/json"
	}
	writeJSON(w, contentType, c.status, out)
}

// authorize decides whether the call's principal may make it: the action
// on each resource the operation names. Only role sessions are judged by
// policies, so only for them are the resources worked out.
func (e *Edge) authorize(ctx context.Context, c *call, in *Input) error {
	if c.service.Authorize != nil {
		return c.service.Authorize(ctx, c.principal, c.op)
	}
	a := AccessOf(ctx, c.service.IAMPrefix()+":"+c.op, "*")
	a.ManagementOnly = !c.service.OwnAccount
	if e.Authorizer == nil {
		if c.principal != nil && c.principal.Admin {
			return nil
		}
		return AccessDenied(a)
	}
	resources := []string{"*"}
	if fn := c.service.Resources[c.op]; fn != nil && c.principal != nil && c.principal.Role != nil {
		named, err := fn(ctx, in)
		if err != nil {
			return err
		}
		if len(named) > 0 {
			resources = named
		}
	}
	for _, r := range resources {
		a.Resource = r
		if err := e.Authorizer.Authorize(ctx, a); err != nil {
			return err
		}
	}
	return nil
}

// checkScope refuses a signature scoped to another service or region, as
// AWS does: a signature made for one service must not be replayed to another.
func (e *Edge) checkScope(r *http.Request, s *Service) error {
	service, region, ok := sigv4.Peek(r)
	if !ok {
		return nil // Authenticate reports what is missing or malformed
	}
	if service != s.Model.SigningName {
		return &sigv4.Error{Kind: sigv4.ScopeMismatch, Msg: fmt.Sprintf("Credential should be scoped to correct service: '%s'.", s.Model.SigningName)}
	}
	if e.Regions != nil && !e.Regions[region] {
		return &sigv4.Error{Kind: sigv4.ScopeMismatch, Msg: fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", region)}
	}
	return nil
}

func (e *Edge) unsignedQueryService(op string) *Service {
	for _, s := range e.bySigning {
		if s.Unsigned[op] {
			return s
		}
	}
	return nil
}

// queryValidation renames the JSON protocols' validation and access errors
// to the codes awsQuery services use for the same failures.
func queryValidation(p Protocol, err error) error {
	e, ok := apierr.As(err)
	if p != Query || !ok {
		return err
	}
	c := *e
	switch e.Code {
	case "ValidationException", "SerializationException":
		c.Code = "ValidationError"
	case "AccessDeniedException":
		c.Code, c.Status = "AccessDenied", 403
	default:
		return err
	}
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
		ID: ids.TimeUUID(), Time: time.Now().UTC(), Source: c.service.EventSource, EventName: c.op,
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

func writeJSON(w http.ResponseWriter, contentType string, status int, out any) {
	w.Header().Set("Content-Type", contentType)
	b := []byte("{}")
	if out != nil {
		var err error
		if b, err = json.Marshal(out); err != nil {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"__type":"InternalFailure","message":"We encountered an internal error. Please try again."}`))
			return
		}
	}
	w.WriteHeader(status)
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
