// Package federation is Atrium's identity sources: external identity
// providers (SAML 2.0, OpenID Connect) people sign in through besides the
// built-in directory — several at once, unlike AWS. It owns the sources'
// rules (stored, managed through the admin API), which user an IdP may
// sign in, just-in-time creation, and the hand-off to the sign-in pages.
// The protocols live in its subpackages and register as a Protocol.
package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/atrium-sso/atrium/internal/access"
	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/ttlcache"
)

// Source is one external identity provider.
type Source = store.IdentitySource

// Kinds of source and what their MFA setting may say.
const (
	KindSAML = "saml"
	KindOIDC = "oidc"

	MFATrust  = "trust"  // the IdP's own MFA is enough
	MFAAtrium = "atrium" // after the IdP, Atrium's own MFA as the instance's policy says
)

// Identity is who an IdP vouched for, once the protocol has checked everything.
type Identity struct {
	Subject                            string // SAML NameID / OIDC sub
	Email                              string // matched, ignoring case, to a user's UserName, then to their email
	DisplayName, GivenName, FamilyName string // for just-in-time creation
	// Attributes are every attribute or claim as received; those named
	// access.AssertedTagPrefix+<key> become session tags.
	Attributes map[string][]string
}

// Protocol is one kind of IdP; the server registers each with the Service.
type Protocol interface {
	Kind() string
	// CheckConfig validates a source's settings before they are stored and
	// returns them normalised (SAML fetches MetadataURL and keeps the XML;
	// OIDC runs discovery).
	CheckConfig(ctx context.Context, src *Source, raw json.RawMessage) (json.RawMessage, error)
	// Register adds the protocol's routes to mux.
	Register(mux *http.ServeMux)
	// StartPath is the path of ours where a browser begins a sign-in at
	// src, coming back to next.
	StartPath(src *Source, next string) string
}

// Host is what a protocol needs of the identity sources; Service is one
// (tests may stand in for it).
type Host interface {
	SourceByName(ctx context.Context, name string) (*Source, error)
	Complete(rw http.ResponseWriter, r *http.Request, src *Source, id Identity, next string)
	Fail(rw http.ResponseWriter, r *http.Request, status int, message string)
	BaseURL() string
	Store() store.Store
}

var _ Host = (*Service)(nil)

// Describer is a Protocol that names the URLs an IdP's administrator needs
// (SP metadata, ACS, redirect URI), shown by `atrium idp show`.
type Describer interface {
	Endpoints(src *Source) map[string]string
}

// Pages is what federation needs of the sign-in pages (package web).
type Pages interface {
	// SignInFederated carries on the sign-in of user, whom an IdP vouched
	// for (method names the protocol): Atrium's own MFA first when
	// atriumMFA and the instance's policy asks, then a session that keeps
	// the session tags the IdP asserted, then next.
	SignInFederated(rw http.ResponseWriter, r *http.Request, user *store.User, method string, atriumMFA bool, assertedTags map[string]string, next string)
	// RefuseSignIn shows why a sign-in cannot go on.
	RefuseSignIn(rw http.ResponseWriter, status int, message string)
}

// Directory creates users just in time, with the directory's own rules.
type Directory interface {
	ProvisionUser(ctx context.Context, u store.User) (*store.User, error)
}

// Options are what New composes.
type Options struct {
	Store     store.Store // audited
	BaseURL   string      // the server's public URL
	Directory Directory
	Logger    *slog.Logger
}

// Service is the identity sources' domain.
type Service struct {
	store   store.Store
	baseURL string
	dir     Directory
	log     *slog.Logger

	mu        sync.RWMutex
	protocols map[string]Protocol
	pages     Pages

	storeID ttlcache.Cache[struct{}, string] // the instance's identity store, found once
	byName  ttlcache.Cache[string, *Source]  // sources by name key
}

// sourceTTL bounds how stale a cached source may be: disabling one stops
// its sign-ins on every node within it.
const sourceTTL = time.Second

// New builds the service; the server adds the protocols and the pages.
func New(o Options) *Service {
	log := o.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Service{store: o.Store, baseURL: strings.TrimSuffix(o.BaseURL, "/"), dir: o.Directory, log: log, protocols: map[string]Protocol{}}
	s.storeID = ttlcache.Cache[struct{}, string]{TTL: 24 * time.Hour}
	s.byName = ttlcache.Cache[string, *Source]{TTL: sourceTTL}
	return s
}

// AddProtocol makes a kind of source available and serves its routes on mux.
func (s *Service) AddProtocol(p Protocol, mux *http.ServeMux) {
	s.mu.Lock()
	s.protocols[p.Kind()] = p
	s.mu.Unlock()
	p.Register(mux)
}

// SetPages connects the sign-in pages (they are built after the service).
func (s *Service) SetPages(p Pages) {
	s.mu.Lock()
	s.pages = p
	s.mu.Unlock()
}

func (s *Service) protocol(kind string) Protocol {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.protocols[kind]
}

func (s *Service) signInPages() Pages {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.pages
}

// BaseURL is the server's public URL, without a trailing slash.
func (s *Service) BaseURL() string { return s.baseURL }

// Store is the store the protocols keep their state in.
func (s *Service) Store() store.Store { return s.store }

// IdentityStoreID is the instance's identity store (instances are never
// deleted, so the one found stays).
func (s *Service) IdentityStoreID(ctx context.Context) (string, error) {
	if id, ok := s.storeID.Get(struct{}{}); ok {
		return id, nil
	}
	var id string
	err := s.store.Read(ctx, func(tx store.Tx) error {
		list, err := tx.ListInstances(ctx)
		if err != nil {
			return err
		}
		if len(list) == 0 {
			return errors.New("federation: no Identity Center instance")
		}
		id = list[0].IdentityStoreID
		return nil
	})
	if err != nil {
		return "", err
	}
	s.storeID.Put(struct{}{}, id)
	return id, nil
}

// SourceByName finds a source by name, ignoring case (cached briefly).
func (s *Service) SourceByName(ctx context.Context, name string) (*Source, error) {
	key := store.NameKey(name)
	if src, ok := s.byName.Get(key); ok {
		return src, nil
	}
	storeID, err := s.IdentityStoreID(ctx)
	if err != nil {
		return nil, err
	}
	var src *Source
	err = s.store.Read(ctx, func(tx store.Tx) error {
		src, err = tx.GetIdentitySourceByName(ctx, storeID, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.byName.Put(key, src)
	return src, nil
}

// --- signing in

// Fail shows a sign-in error page with a message safe to show; the
// protocols log the real reason themselves.
func (s *Service) Fail(rw http.ResponseWriter, r *http.Request, status int, message string) {
	if p := s.signInPages(); p != nil {
		p.RefuseSignIn(rw, status, message)
		return
	}
	http.Error(rw, message, status)
}

// refusedUser is the one answer for every user an IdP may not sign in:
// which reason it was goes to the log, not to the browser.
const refusedUser = "Your identity provider signed you in, but there is no Atrium user for you here, or you may not sign in this way. Ask your administrator."

// Complete finishes a sign-in src vouched for: it finds the user (or
// creates them, when src allows just-in-time creation), refuses a user of
// another source and a disabled source or user, and hands the person to
// the sign-in pages, which start the session and go on to next.
func (s *Service) Complete(rw http.ResponseWriter, r *http.Request, src *Source, id Identity, next string) {
	ctx := r.Context()
	current, err := s.SourceByName(ctx, src.Name)
	if err != nil || !current.Enabled || current.ID != src.ID {
		s.log.Warn("federated sign-in for a source that is gone or disabled", "source", src.Name, "err", err)
		s.Fail(rw, r, http.StatusForbidden, "This identity provider is not available for sign-in.")
		return
	}
	src = current
	user, err := s.matchUser(ctx, src, id)
	if err != nil {
		s.log.Warn("federated sign-in refused", "source", src.Name, "subject", id.Subject, "reason", err)
		s.Fail(rw, r, http.StatusForbidden, refusedUser)
		return
	}
	pages := s.signInPages()
	if pages == nil {
		s.Fail(rw, r, http.StatusServiceUnavailable, "Sign-in is not available yet.")
		return
	}
	pages.SignInFederated(rw, r, user, src.Kind, src.MFA == MFAAtrium, access.AssertedTags(id.Attributes), next)
}

// matchUser is the user id names: by user name, then by email, ignoring
// case; they must belong to src and be enabled. With src.JIT a missing
// user is created in src.
func (s *Service) matchUser(ctx context.Context, src *Source, id Identity) (*store.User, error) {
	email := strings.TrimSpace(id.Email)
	if email == "" {
		return nil, errors.New("the IdP sent no email")
	}
	var user *store.User
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		user, err = tx.GetUserByName(ctx, src.IdentityStoreID, email)
		if errors.Is(err, store.ErrNotFound) {
			user, err = tx.GetUserByEmail(ctx, src.IdentityStoreID, email)
		}
		return err
	})
	switch {
	case errors.Is(err, store.ErrNotFound) && src.JIT:
		return s.createUser(ctx, src, id, email)
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("no user %q and just-in-time creation is off", email)
	case err != nil:
		return nil, err
	case user.SourceID != src.ID:
		// An IdP must not sign in another source's users (a break-glass
		// admin of the built-in directory above all).
		return nil, fmt.Errorf("user %s belongs to source %q", user.ID, user.SourceID)
	case user.Status != store.UserEnabled:
		return nil, fmt.Errorf("user %s is disabled", user.ID)
	}
	return user, nil
}

func (s *Service) createUser(ctx context.Context, src *Source, id Identity, email string) (*store.User, error) {
	if s.dir == nil {
		return nil, errors.New("just-in-time creation is not wired")
	}
	given, family := id.GivenName, id.FamilyName
	if given == "" || family == "" {
		// Identity Center requires both names; an IdP that sends neither gets the email's parts.
		local, _, _ := strings.Cut(email, "@")
		if given == "" {
			given = local
		}
		if family == "" {
			family = local
		}
	}
	display := id.DisplayName
	if display == "" {
		display = strings.TrimSpace(given + " " + family)
	}
	u := store.User{IdentityStoreID: src.IdentityStoreID, UserName: email, DisplayName: display, Status: store.UserEnabled,
		SourceID: src.ID, Profile: store.UserProfile{
			Name:   &store.PersonName{GivenName: given, FamilyName: family},
			Emails: []store.Email{{Value: email, Type: "work", Primary: new(true)}},
		}}
	if id.Subject != "" {
		u.ExternalIDs = []store.ExternalID{{Issuer: "atrium:" + src.Kind + ":" + src.Name, ID: id.Subject}}
	}
	created, err := s.dir.ProvisionUser(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("just-in-time creation of %q: %w", email, err)
	}
	s.log.Info("user created at first sign-in", "source", src.Name, "user", created.ID)
	return created, nil
}

// --- the sign-in page

// SignInOption is one IdP the sign-in page offers.
type SignInOption struct {
	Name string // the source's name, on its button
	Path string // where the button leads
}

// SignInOptions are the enabled sources, each with the path that starts a
// sign-in there and comes back to next.
func (s *Service) SignInOptions(ctx context.Context, next string) ([]SignInOption, error) {
	list, err := s.ListSources(ctx)
	if err != nil {
		return nil, err
	}
	var out []SignInOption
	for i := range list {
		src := &list[i]
		if p := s.protocol(src.Kind); p != nil && src.Enabled {
			out = append(out, SignInOption{Name: src.Name, Path: p.StartPath(src, next)})
		}
	}
	return out, nil
}

// RouteUserName is where a sign-in for userName goes when its email domain
// belongs to an enabled source: the IdP, whatever the name — the answer
// depends on the domain only, so it tells nothing about who exists.
func (s *Service) RouteUserName(ctx context.Context, userName, next string) (path string, ok bool, err error) {
	_, domain, found := strings.Cut(strings.ToLower(strings.TrimSpace(userName)), "@")
	if !found || domain == "" {
		return "", false, nil
	}
	list, err := s.ListSources(ctx)
	if err != nil {
		return "", false, err
	}
	for i := range list {
		src := &list[i]
		if p := s.protocol(src.Kind); p != nil && src.Enabled && slices.Contains(src.EmailDomains, domain) {
			return p.StartPath(src, next), true, nil
		}
	}
	return "", false, nil
}

// --- administration

// SourceInput is a source as an administrator creates or changes it; nil
// fields are left as they are (or their defaults, on create).
type SourceInput struct {
	Name         string
	NewName      *string
	Kind         string
	Enabled      *bool
	EmailDomains *[]string
	MFA          *string
	JIT          *bool
	Config       json.RawMessage // the protocol's settings; nil: unchanged
	ClientSecret *string         // merged into Config as "ClientSecret" (kept out of audit records)
}

// maxConfig bounds a source's settings (AWS takes SAML metadata up to 75,000 characters).
const maxConfig = 100_000

var (
	sourceName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	domainLabel = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

func validation(format string, a ...any) error { return apierr.Validation(format, a...) }

func sourceNotFound(name string) error {
	return apierr.New(400, "ResourceNotFoundException", "Identity source %s not found.", name).
		With("ResourceType", "IDENTITY_SOURCE").With("ResourceId", name)
}

func conflict(format string, a ...any) error {
	return apierr.New(400, "ConflictException", format, a...)
}

func checkDomains(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	for _, d := range in {
		d = strings.ToLower(strings.TrimSpace(d))
		labels := strings.Split(d, ".")
		if len(d) > 253 || len(labels) < 2 {
			return nil, validation("EmailDomains: %q is not a domain name", d)
		}
		for _, l := range labels {
			if !domainLabel.MatchString(l) {
				return nil, validation("EmailDomains: %q is not a domain name", d)
			}
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// settle applies in to src (whose Kind is set) and checks the result.
func (s *Service) settle(ctx context.Context, src *Source, in SourceInput) error {
	if in.NewName != nil {
		src.Name = *in.NewName
	}
	if !sourceName.MatchString(src.Name) {
		return validation("Name must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	if in.Enabled != nil {
		src.Enabled = *in.Enabled
	}
	if in.EmailDomains != nil {
		d, err := checkDomains(*in.EmailDomains)
		if err != nil {
			return err
		}
		src.EmailDomains = d
	}
	if in.MFA != nil {
		if *in.MFA != MFATrust && *in.MFA != MFAAtrium {
			return validation("Mfa must be %q or %q", MFATrust, MFAAtrium)
		}
		src.MFA = *in.MFA
	}
	if in.JIT != nil {
		src.JIT = *in.JIT
	}
	if in.Config == nil && in.ClientSecret == nil {
		return nil
	}
	raw := in.Config
	if raw == nil {
		raw = json.RawMessage(src.Config)
	}
	if len(raw) > maxConfig {
		return validation("Configuration must be at most %d characters", maxConfig)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil || doc == nil {
		return validation("Configuration must be a JSON object")
	}
	if in.ClientSecret != nil {
		doc["ClientSecret"], _ = json.Marshal(*in.ClientSecret)
	} else if in.Config != nil && len(src.Config) > 0 {
		// New settings without a secret keep the one stored.
		var old map[string]json.RawMessage
		if json.Unmarshal(src.Config, &old) == nil && old["ClientSecret"] != nil && doc["ClientSecret"] == nil {
			doc["ClientSecret"] = old["ClientSecret"]
		}
	}
	merged, _ := json.Marshal(doc)
	p := s.protocol(src.Kind)
	if p == nil {
		return validation("Type %q is not available on this server", src.Kind)
	}
	checked, err := p.CheckConfig(ctx, src, merged)
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return err
		}
		return validation("Configuration: %v", err)
	}
	src.Config = checked
	return nil
}

// CreateSource adds an identity source: enabled unless said otherwise,
// trusting the IdP's MFA, without just-in-time creation.
func (s *Service) CreateSource(ctx context.Context, in SourceInput) (*Source, error) {
	storeID, err := s.IdentityStoreID(ctx)
	if err != nil {
		return nil, err
	}
	if s.protocol(in.Kind) == nil {
		return nil, validation("Type must be one of %s", strings.Join(s.kinds(), ", "))
	}
	if in.Config == nil {
		return nil, validation("Configuration is required")
	}
	now := time.Now().UTC()
	src := &Source{IdentityStoreID: storeID, ID: "idp-" + ids.Hex(8), Name: in.Name, Kind: in.Kind, Enabled: true, MFA: MFATrust,
		CreatedAt: now, UpdatedAt: now}
	if err := s.settle(ctx, src, in); err != nil {
		return nil, err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		if err := domainsFree(ctx, tx, src); err != nil {
			return err
		}
		err := tx.InsertIdentitySource(ctx, *src)
		if errors.Is(err, store.ErrConflict) {
			return conflict("An identity source named %s exists", src.Name)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return src, nil
}

// domainsFree refuses an email domain another source routes already.
func domainsFree(ctx context.Context, tx store.Tx, src *Source) error {
	list, err := tx.ListIdentitySources(ctx, src.IdentityStoreID)
	if err != nil {
		return err
	}
	for _, other := range list {
		if other.ID == src.ID {
			continue
		}
		for _, d := range src.EmailDomains {
			if slices.Contains(other.EmailDomains, d) {
				return conflict("Email domain %s already routes to identity source %s", d, other.Name)
			}
		}
	}
	return nil
}

func (s *Service) kinds() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var k []string
	for kind := range s.protocols {
		k = append(k, kind)
	}
	slices.Sort(k)
	return k
}

// UpdateSource changes what in names; a source's type never changes.
func (s *Service) UpdateSource(ctx context.Context, in SourceInput) (*Source, error) {
	storeID, err := s.IdentityStoreID(ctx)
	if err != nil {
		return nil, err
	}
	// Settings are checked (which may fetch metadata) outside the
	// transaction, then stored if the source did not change meanwhile.
	var current *Source
	err = s.store.Read(ctx, func(tx store.Tx) error {
		current, err = tx.GetIdentitySourceByName(ctx, storeID, in.Name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, sourceNotFound(in.Name)
	}
	if err != nil {
		return nil, err
	}
	if in.Kind != "" && in.Kind != current.Kind {
		return nil, validation("Type cannot change: create another source")
	}
	next := *current
	if err := s.settle(ctx, &next, in); err != nil {
		return nil, err
	}
	next.UpdatedAt = time.Now().UTC()
	var out *Source
	err = s.store.Write(ctx, func(tx store.Tx) error {
		if err := domainsFree(ctx, tx, &next); err != nil {
			return err
		}
		var err error
		out, err = tx.UpdateIdentitySource(ctx, storeID, current.ID, func(src *Source) error {
			if !src.UpdatedAt.Equal(current.UpdatedAt) {
				return conflict("Identity source %s changed meanwhile: try again", in.Name)
			}
			*src = next
			return nil
		})
		if errors.Is(err, store.ErrConflict) {
			return conflict("An identity source named %s exists", next.Name)
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, sourceNotFound(in.Name)
	}
	if err != nil {
		return nil, err
	}
	s.byName.Delete(store.NameKey(current.Name))
	return out, nil
}

// DeleteSource removes a source that no user belongs to any more: its
// users, and so their assignments, are never deleted behind anyone's back.
func (s *Service) DeleteSource(ctx context.Context, name string) error {
	storeID, err := s.IdentityStoreID(ctx)
	if err != nil {
		return err
	}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		src, err := tx.GetIdentitySourceByName(ctx, storeID, name)
		if err != nil {
			return err
		}
		n, err := tx.CountSourceUsers(ctx, storeID, src.ID)
		if err != nil {
			return err
		}
		if n > 0 {
			return conflict("%d users belong to identity source %s: move them to another source or delete them first (atrium user set-source)", n, src.Name)
		}
		return tx.DeleteIdentitySource(ctx, storeID, src.ID)
	})
	if errors.Is(err, store.ErrNotFound) {
		return sourceNotFound(name)
	}
	s.byName.Delete(store.NameKey(name))
	return err
}

// GetSource is the source named name.
func (s *Service) GetSource(ctx context.Context, name string) (*Source, error) {
	storeID, err := s.IdentityStoreID(ctx)
	if err != nil {
		return nil, err
	}
	var src *Source
	err = s.store.Read(ctx, func(tx store.Tx) error {
		src, err = tx.GetIdentitySourceByName(ctx, storeID, name)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return nil, sourceNotFound(name)
	}
	return src, err
}

// ListSources lists the sources by name.
func (s *Service) ListSources(ctx context.Context) ([]Source, error) {
	storeID, err := s.IdentityStoreID(ctx)
	if err != nil {
		return nil, err
	}
	var list []Source
	err = s.store.Read(ctx, func(tx store.Tx) error {
		list, err = tx.ListIdentitySources(ctx, storeID)
		return err
	})
	return list, err
}

// SetUserSource moves a user to the source named sourceName ("" for the
// built-in directory); their assignments stay. From then on they sign in
// only through that source.
func (s *Service) SetUserSource(ctx context.Context, identityStoreID, userID, sourceName string) error {
	return s.store.Write(ctx, func(tx store.Tx) error {
		sourceID := ""
		if sourceName != "" {
			src, err := tx.GetIdentitySourceByName(ctx, identityStoreID, sourceName)
			if errors.Is(err, store.ErrNotFound) {
				return sourceNotFound(sourceName)
			}
			if err != nil {
				return err
			}
			sourceID = src.ID
		}
		_, err := tx.UpdateUser(ctx, identityStoreID, userID, func(u *store.User) error {
			u.SourceID = sourceID
			return nil
		})
		if errors.Is(err, store.ErrNotFound) {
			return apierr.New(400, "ResourceNotFoundException", "USER not found.").With("ResourceType", "USER").With("ResourceId", userID)
		}
		return err
	})
}

// Endpoints are the URLs an IdP administrator needs for src, when its protocol names them.
func (s *Service) Endpoints(src *Source) map[string]string {
	out := map[string]string{}
	p := s.protocol(src.Kind)
	if p == nil {
		return out
	}
	out["SignInUrl"] = s.baseURL + p.StartPath(src, "")
	if d, ok := p.(Describer); ok {
		for k, v := range d.Endpoints(src) {
			out[k] = v
		}
	}
	return out
}

// PublicConfig is src's settings as administrators see them: secrets hidden.
func PublicConfig(src *Source) string {
	var doc map[string]json.RawMessage
	if json.Unmarshal(src.Config, &doc) != nil {
		return ""
	}
	for k := range doc {
		if strings.HasSuffix(strings.ToLower(k), "secret") {
			doc[k] = json.RawMessage(`"********"`)
		}
	}
	b, _ := json.Marshal(doc)
	return string(b)
}

// LocalNext is where a federated sign-in may go afterwards: a path of ours
// and its query, never another host; anything else is /start.
func LocalNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/start"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/start"
	}
	return next
}

// SourceUserCount counts the users who sign in through src.
func (s *Service) SourceUserCount(ctx context.Context, src *Source) (int, error) {
	var n int
	err := s.store.Read(ctx, func(tx store.Tx) error {
		var err error
		n, err = tx.CountSourceUsers(ctx, src.IdentityStoreID, src.ID)
		return err
	})
	return n, err
}
