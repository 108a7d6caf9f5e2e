// Package scim is SCIM 2.0 provisioning (RFC 7643, RFC 7644) at
// <url>/scim/v2: identity providers (Okta, Entra ID, Google Workspace)
// create, change and delete the identity store's users and groups — the
// same rows the identitystore API serves, under the same rules — with a
// bearer token an admin created. It only translates SCIM into the store's
// users, groups and memberships; it owns the tokens.
package scim

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/audit"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/ttlcache"
)

// Prefix is where SCIM is served.
const Prefix = "/scim/v2"

const (
	contentType  = "application/scim+json"
	eventSource  = "scim.identitystore.amazonaws.com"
	defaultCount = 100
	maxCount     = 1000 // per page; advertised as filter.maxResults
	maxBody      = awsproto.MaxBody
	// tokenTTL bounds how long a token stays accepted on a node after it
	// was revoked on another.
	tokenTTL = time.Second
)

// Config is what the service needs of the server.
type Config struct {
	URL string // the server's public base URL, no trailing slash
	Log *slog.Logger
}

// Service serves SCIM and manages its bearer tokens.
type Service struct {
	store  *audit.Store
	url    string
	log    *slog.Logger
	tokens ttlcache.Cache[string, store.ScimToken]
	model  *model.Service // identitystore's: its User shape is the rule for users
	now    func() time.Time
}

// New builds the service over the audited store.
func New(s *audit.Store, cfg Config) *Service {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: s, url: strings.TrimSuffix(cfg.URL, "/"), log: log, model: model.MustLoad("identitystore"),
		tokens: ttlcache.Cache[string, store.ScimToken]{TTL: tokenTTL}, now: time.Now}
}

// Register adds the SCIM routes to mux.
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc(Prefix+"/", s.serve)
	mux.HandleFunc(Prefix, s.serve)
}

// call is one authenticated SCIM request.
type call struct {
	w     http.ResponseWriter
	r     *http.Request
	token store.ScimToken
	store string // the identity store the token provisions
	actor string // who changes are stamped with
	event string // the write's name in the audit record; "" for reads
}

// serve authenticates, routes and answers one request.
func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r}
	tok, err := s.authenticate(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="atrium-scim"`)
		s.fail(c, err)
		return
	}
	c.token, c.store, c.actor = tok, tok.IdentityStoreID, "scim/"+tok.ID
	path := strings.TrimPrefix(r.URL.Path, Prefix)
	parts := strings.Split(strings.Trim(path, "/"), "/")
	id := ""
	if len(parts) == 2 {
		id = parts[1]
	}
	if len(parts) > 2 {
		s.fail(c, errorf(http.StatusNotFound, "", "no such endpoint"))
		return
	}
	method := r.Method
	var h func(context.Context, *call) error
	switch strings.ToLower(parts[0]) {
	case "users":
		h = s.resourceHandler(c, method, id, userResource)
	case "groups":
		h = s.resourceHandler(c, method, id, groupResource)
	case "serviceproviderconfig":
		if id != "" {
			s.fail(c, errorf(http.StatusNotFound, "", "no such endpoint"))
			return
		}
		if method == http.MethodGet {
			h = s.serviceProviderConfig
		}
	case "schemas":
		if method == http.MethodGet {
			h = func(ctx context.Context, c *call) error { return s.schemas(c, id) }
		}
	case "resourcetypes":
		if method == http.MethodGet {
			h = func(ctx context.Context, c *call) error { return s.resourceTypes(c, id) }
		}
	case "bulk", "me":
		// Not offered (ServiceProviderConfig says so); RFC 7644 sections 3.7 and 3.11.
		s.fail(c, errorf(http.StatusNotImplemented, "", "/%s is not supported", parts[0]))
		return
	case ".search":
		if method == http.MethodPost {
			s.fail(c, errorf(http.StatusNotImplemented, "", "search across resource types is not supported; use /Users/.search or /Groups/.search"))
			return
		}
	default:
		s.fail(c, errorf(http.StatusNotFound, "", "no such endpoint"))
		return
	}
	if h == nil {
		w.Header().Set("Allow", allowed(parts[0], id))
		s.fail(c, errorf(http.StatusMethodNotAllowed, "", "%s is not allowed here", method))
		return
	}
	ctx := r.Context()
	if c.event != "" {
		ctx = audit.Begin(ctx, s.auditEvent(c))
	}
	err = h(ctx, c)
	if c.event != "" {
		code, msg := "", ""
		if err != nil {
			e := asError(err)
			code, msg = "scim:"+strconv.Itoa(e.Status)+":"+e.ScimType, e.Detail
		}
		if aerr := s.store.Finish(ctx, code, msg); aerr != nil {
			s.log.ErrorContext(ctx, "audit record lost", "error", aerr)
		}
	}
	if err != nil {
		s.fail(c, err)
	}
}

func allowed(endpoint, id string) string {
	switch strings.ToLower(endpoint) {
	case "users", "groups":
		if id == ".search" {
			return "POST"
		}
		if id != "" {
			return "GET, PUT, PATCH, DELETE"
		}
		return "GET, POST"
	}
	return "GET"
}

// resourceHandler routes a request on /Users or /Groups, and names the
// writes for the audit record.
func (s *Service) resourceHandler(c *call, method, id string, res *resource) func(context.Context, *call) error {
	kind := res.Name
	switch {
	case id == ".search" && method == http.MethodPost:
		return func(ctx context.Context, c *call) error { return s.list(ctx, c, res, true) }
	case id == ".search":
		return nil
	case id == "" && method == http.MethodGet:
		return func(ctx context.Context, c *call) error { return s.list(ctx, c, res, false) }
	case id == "" && method == http.MethodPost:
		c.event = "Create" + kind
		return func(ctx context.Context, c *call) error { return s.create(ctx, c, res) }
	case id == "":
		return nil
	case method == http.MethodGet:
		return func(ctx context.Context, c *call) error { return s.get(ctx, c, res, id) }
	case method == http.MethodPut:
		c.event = "Put" + kind
		return func(ctx context.Context, c *call) error { return s.replace(ctx, c, res, id) }
	case method == http.MethodPatch:
		c.event = "Patch" + kind
		return func(ctx context.Context, c *call) error { return s.patch(ctx, c, res, id) }
	case method == http.MethodDelete:
		c.event = "Delete" + kind
		return func(ctx context.Context, c *call) error { return s.delete(ctx, c, res, id) }
	}
	return nil
}

func (s *Service) auditEvent(c *call) store.AuditEvent {
	params := map[string]string{"path": c.r.URL.Path}
	b, _ := json.Marshal(params)
	return store.AuditEvent{ID: ids.TimeUUID(), Time: time.Now().UTC(), Source: eventSource, EventName: c.event,
		PrincipalARN: c.actor, SourceIP: sourceIP(c.r), UserAgent: c.r.UserAgent(), RequestID: awsproto.RequestID(c.r.Context()),
		RequestParams: string(b)}
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// --- authentication

var errUnauthorized = errorf(http.StatusUnauthorized, "", "a valid bearer token is required")

// authenticate finds the live token the request bears. Tokens are looked
// up by hash, and a token read stays cached for at most tokenTTL, so one
// revoked on any node is refused everywhere within it.
func (s *Service) authenticate(r *http.Request) (store.ScimToken, error) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" || len(token) > 512 {
		return store.ScimToken{}, errUnauthorized
	}
	hash := creds.TokenHash(token)
	tok, cached := s.tokens.Get(hash)
	if !cached {
		err := s.store.Read(r.Context(), func(tx store.Tx) error {
			t, err := tx.GetScimTokenByHash(r.Context(), hash)
			if err == nil {
				tok = *t
			}
			return err
		})
		if errors.Is(err, store.ErrNotFound) {
			return store.ScimToken{}, errUnauthorized
		}
		if err != nil {
			return store.ScimToken{}, err
		}
		s.tokens.Put(hash, tok)
	}
	if !tok.Live(s.now()) {
		return store.ScimToken{}, errUnauthorized
	}
	return tok, nil
}

// --- answers

func (s *Service) fail(c *call, err error) {
	e := asError(err)
	if e.Status == http.StatusInternalServerError {
		s.log.ErrorContext(c.r.Context(), "scim request failed", "method", c.r.Method, "path", c.r.URL.Path, "error", err)
	}
	out := errorOut{Schemas: []string{errorSchema}, Status: strconv.Itoa(e.Status), ScimType: e.ScimType, Detail: e.Detail}
	writeJSON(c.w, e.Status, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"schemas":["`+errorSchema+`"],"status":"500","detail":"internal error"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b)
}

// body reads a request's JSON object.
func body(r *http.Request) (map[string]any, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, badRequest(invalidSyntax, "cannot read the body")
	}
	if len(b) > maxBody {
		return nil, errorf(http.StatusRequestEntityTooLarge, "", "the body is larger than %d bytes", maxBody)
	}
	return parseBody(b)
}

// location is a resource's URL.
func (s *Service) location(res *resource, id string) string {
	return s.url + Prefix + res.Endpoint + "/" + id
}

func (s *Service) meta(res *resource, id string, created, updated time.Time) map[string]any {
	return map[string]any{"resourceType": res.Name, "created": created.UTC().Format(time.RFC3339Nano),
		"lastModified": updated.UTC().Format(time.RFC3339Nano), "location": s.location(res, id)}
}
