// Package saml is Atrium's SAML 2.0 service provider: one per SAML identity
// source, at /saml/{name}/metadata (SP metadata), /saml/{name}/start
// (SP-initiated sign-in, HTTP-Redirect binding) and /saml/{name}/acs (the
// assertion consumer service, HTTP-POST binding). It translates: crewjam/saml
// checks signatures, audience, recipient, destination, times and
// InResponseTo; the store's single-use marks stop replays on every node; the
// federation service decides who the person is.
package saml

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/atrium-sso/atrium/internal/federation"
	"github.com/atrium-sso/atrium/internal/store"
)

// Federation is what the SP needs of the federation service.
type Federation = federation.Host

// Options are what New may be given.
type Options struct {
	Log *slog.Logger
	Now func() time.Time // nil = time.Now
}

// Protocol is the SAML kind of identity source.
type Protocol struct {
	fed  Federation
	log  *slog.Logger
	keys *keys
	now  func() time.Time
}

var (
	_ federation.Protocol  = (*Protocol)(nil)
	_ federation.Describer = (*Protocol)(nil)
)

// New loads (or, on the instance's first start, makes) the SP key pair and
// the request-cookie key, shared by every node through the store.
func New(ctx context.Context, fed Federation, o Options) (*Protocol, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	k, err := loadKeys(ctx, fed.Store())
	if err != nil {
		return nil, err
	}
	return &Protocol{fed: fed, log: o.Log, keys: k, now: o.Now}, nil
}

func (p *Protocol) Kind() string { return federation.KindSAML }

func (p *Protocol) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /saml/{name}/metadata", p.metadata)
	mux.HandleFunc("GET /saml/{name}/start", p.start)
	mux.HandleFunc("POST /saml/{name}/acs", p.acs)
	// The HTTP-Redirect binding too (not in our metadata, but a binding an
	// IdP may use): deflated, so inflated under a cap; its query signature
	// is not enough, the XML must carry one as for HTTP-POST.
	mux.HandleFunc("GET /saml/{name}/acs", p.acs)
}

func (p *Protocol) StartPath(src *federation.Source, next string) string {
	return "/saml/" + url.PathEscape(src.Name) + "/start?next=" + url.QueryEscape(federation.LocalNext(next))
}

// Endpoints are what an IdP administrator enters for src (or the metadata
// URL alone, where the IdP imports SP metadata).
func (p *Protocol) Endpoints(src *federation.Source) map[string]string {
	base := p.base(src)
	return map[string]string{"MetadataUrl": base + "/metadata", "EntityId": base + "/metadata", "AcsUrl": base + "/acs"}
}

func (p *Protocol) base(src *federation.Source) string {
	return strings.TrimSuffix(p.fed.BaseURL(), "/") + "/saml/" + url.PathEscape(src.Name)
}

func (p *Protocol) clock() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

// Messages people see; the reason goes to the log.
const (
	msgUnknownSource = "This identity provider is not known to Atrium."
	msgDisabled      = "Sign-in through this identity provider is turned off. Ask your administrator."
	msgRefused       = "Your identity provider's answer could not be accepted. Start the sign-in again; if it keeps failing, ask your administrator."
	msgUnavailable   = "Sign-in through this identity provider is not available right now. Try again in a moment."
)

// source finds the SAML source named in the path, or answers the request.
func (p *Protocol) source(rw http.ResponseWriter, r *http.Request, mustBeEnabled bool) (*federation.Source, *Config, bool) {
	name := r.PathValue("name")
	src, err := p.fed.SourceByName(r.Context(), name)
	if err != nil || src.Kind != federation.KindSAML {
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			p.log.ErrorContext(r.Context(), "saml: source lookup", "source", name, "err", err)
			p.fed.Fail(rw, r, http.StatusServiceUnavailable, msgUnavailable)
			return nil, nil, false
		}
		p.fed.Fail(rw, r, http.StatusNotFound, msgUnknownSource)
		return nil, nil, false
	}
	if mustBeEnabled && !src.Enabled {
		p.fed.Fail(rw, r, http.StatusForbidden, msgDisabled)
		return nil, nil, false
	}
	cfg, err := parseStoredConfig(src.Config)
	if err != nil {
		p.log.ErrorContext(r.Context(), "saml: stored config", "source", src.Name, "err", err)
		p.fed.Fail(rw, r, http.StatusServiceUnavailable, msgUnavailable)
		return nil, nil, false
	}
	return src, cfg, true
}

// serviceProvider is crewjam's SP for one source, built per request from the
// stored config (cheap next to checking a signature).
func (p *Protocol) serviceProvider(src *federation.Source, cfg *Config, idp *saml.EntityDescriptor) *saml.ServiceProvider {
	base := p.base(src)
	metadataURL, _ := url.Parse(base + "/metadata")
	acsURL, _ := url.Parse(base + "/acs")
	clock := dsig.NewRealClock()
	if p.now != nil {
		clock = dsig.NewFakeClockAt(p.now())
	}
	return &saml.ServiceProvider{
		EntityID:                         metadataURL.String(),
		Key:                              p.keys.spKey,
		Certificate:                      p.keys.spCert,
		EncryptionKey:                    p.keys.spKey,
		MetadataURL:                      *metadataURL,
		AcsURL:                           *acsURL,
		IDPMetadata:                      idp,
		AuthnNameIDFormat:                saml.EmailAddressNameIDFormat,
		AllowIDPInitiated:                cfg.idpInitiated(),
		SignatureMethod:                  dsig.RSASHA256SignatureMethod,
		AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding},
		MetadataOmitValidUntil:           true,
		RejectSHA1Signatures:             true,
		// IdPs that sign only the assertion and encrypt it with AES-CBC are
		// common (simplesamlphp's defaults); every refusal looks the same.
		RequireSignedResponseForCBC: false,
		Clock:                       clock,
	}
}

// metadata serves the SP metadata an IdP administrator imports.
func (p *Protocol) metadata(rw http.ResponseWriter, r *http.Request) {
	src, cfg, ok := p.source(rw, r, false)
	if !ok {
		return
	}
	sp := p.serviceProvider(src, cfg, nil)
	md := sp.Metadata()
	b, err := xml.MarshalIndent(md, "", "  ")
	if err != nil {
		p.log.ErrorContext(r.Context(), "saml: metadata", "source", src.Name, "err", err)
		p.fed.Fail(rw, r, http.StatusInternalServerError, msgUnavailable)
		return
	}
	rw.Header().Set("Content-Type", "application/samlmetadata+xml")
	rw.Header().Set("X-Content-Type-Options", "nosniff")
	rw.Header().Set("Content-Disposition", `inline; filename="atrium-`+safeFileName(src.Name)+`-metadata.xml"`)
	rw.Write([]byte(xml.Header))
	rw.Write(b)
}

// start sends the browser to the IdP with an AuthnRequest, remembering its
// id and where to go afterwards in a MACed cookie that RelayState names.
func (p *Protocol) start(rw http.ResponseWriter, r *http.Request) {
	src, cfg, ok := p.source(rw, r, true)
	if !ok {
		return
	}
	idp, err := cfg.idpMetadata()
	if err != nil {
		p.log.ErrorContext(r.Context(), "saml: stored IdP metadata", "source", src.Name, "err", err)
		p.fed.Fail(rw, r, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	sp := p.serviceProvider(src, cfg, idp)
	req, err := sp.MakeAuthenticationRequest(sp.GetSSOBindingLocation(saml.HTTPRedirectBinding), saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		p.log.ErrorContext(r.Context(), "saml: authn request", "source", src.Name, "err", err)
		p.fed.Fail(rw, r, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	now := p.clock()
	relay, cookie, err := p.keys.track(trackedRequest{Source: src.ID, RequestID: req.ID, Next: federation.LocalNext(r.URL.Query().Get("next")),
		Expires: now.Add(requestLifetime).Unix()})
	if err != nil {
		p.log.ErrorContext(r.Context(), "saml: track request", "err", err)
		p.fed.Fail(rw, r, http.StatusInternalServerError, msgUnavailable)
		return
	}
	to, err := req.Redirect(relay, sp)
	if err != nil {
		p.log.ErrorContext(r.Context(), "saml: redirect", "source", src.Name, "err", err)
		p.fed.Fail(rw, r, http.StatusServiceUnavailable, msgUnavailable)
		return
	}
	setRequestCookie(rw, relay, cookie, now.Add(requestLifetime))
	rw.Header().Set("Cache-Control", "no-store")
	rw.Header().Set("Referrer-Policy", "no-referrer")
	http.Redirect(rw, r, to.String(), http.StatusFound)
}

// acs checks the IdP's response and hands who it vouches for to federation.
func (p *Protocol) acs(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Cache-Control", "no-store")
	src, cfg, ok := p.source(rw, r, true)
	if !ok {
		return
	}
	xmlResponse, relay, err := readResponse(rw, r)
	if err != nil {
		p.log.WarnContext(r.Context(), "saml: unreadable response", "source", src.Name, "err", err)
		p.fed.Fail(rw, r, http.StatusBadRequest, msgRefused)
		return
	}
	// The request this answers, if we sent one: named by RelayState,
	// remembered in a cookie only we can have made.
	var possibleIDs []string
	next := "/start"
	if tr, ok := p.keys.tracked(r, relay, p.clock()); ok && tr.Source == src.ID {
		possibleIDs = []string{tr.RequestID}
		next = tr.Next
		clearRequestCookie(rw, relay)
	}
	id, err := p.validate(src, cfg, xmlResponse, possibleIDs, replayCache{ctx: r.Context(), store: p.fed.Store(), source: src.ID})
	if err != nil {
		p.log.WarnContext(r.Context(), "saml: response refused", "source", src.Name, "err", privateErr(err))
		p.fed.Fail(rw, r, http.StatusForbidden, msgRefused)
		return
	}
	p.fed.Complete(rw, r, src, *id, next)
}

// validate checks a decoded Response and returns the identity it vouches for.
func (p *Protocol) validate(src *federation.Source, cfg *Config, xmlResponse []byte, possibleIDs []string, replays saml.AssertionReplayCache) (*federation.Identity, error) {
	idp, err := cfg.idpMetadata()
	if err != nil {
		return nil, fmt.Errorf("stored IdP metadata: %w", err)
	}
	sp := p.serviceProvider(src, cfg, idp)
	sp.ReplayCache = replays
	if len(possibleIDs) == 0 && !cfg.idpInitiated() {
		return nil, errors.New("unsolicited response (no request of ours in this browser) and IdP-initiated sign-in is off for this source")
	}
	assertion, err := sp.ParseXMLResponse(xmlResponse, possibleIDs, sp.AcsURL)
	if err != nil {
		return nil, err
	}
	return identityOf(assertion, cfg.AttributeMapping)
}

// privateErr is the reason crewjam keeps out of its Error().
func privateErr(err error) error {
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		return ire.PrivateErr
	}
	return err
}

// replayCache is crewjam's replay cache on the store's single-use marks, so a
// response accepted by one node is refused by every other.
type replayCache struct {
	ctx    context.Context
	store  store.Store
	source string
}

func (c replayCache) Consume(assertionID string, expires time.Time) error {
	var fresh bool
	err := c.store.Write(c.ctx, func(tx store.Tx) error {
		var err error
		fresh, err = tx.UseOnce(c.ctx, "saml-assertion:"+c.source+":"+assertionID, expires)
		return err
	})
	if err != nil {
		return err
	}
	if !fresh {
		return saml.ErrAssertionReplayed
	}
	return nil
}

func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}
