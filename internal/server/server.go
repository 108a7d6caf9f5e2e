// Package server composes Atrium: it opens the store, bootstraps it, wires
// the domain services onto the one HTTP listener, and runs until stopped.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/atrium-sso/atrium/internal/access"
	"github.com/atrium-sso/atrium/internal/accounts"
	"github.com/atrium-sso/atrium/internal/adminapi"
	"github.com/atrium-sso/atrium/internal/audit"
	"github.com/atrium-sso/atrium/internal/authz"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/config"
	"github.com/atrium-sso/atrium/internal/creds"
	"github.com/atrium-sso/atrium/internal/directory"
	"github.com/atrium-sso/atrium/internal/federation"
	"github.com/atrium-sso/atrium/internal/federation/oidc"
	"github.com/atrium-sso/atrium/internal/federation/saml"
	"github.com/atrium-sso/atrium/internal/iam"
	"github.com/atrium-sso/atrium/internal/jobs"
	"github.com/atrium-sso/atrium/internal/oauth"
	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/scim"
	"github.com/atrium-sso/atrium/internal/signin"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/postgres"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
	"github.com/atrium-sso/atrium/internal/store/sqlstore"
	"github.com/atrium-sso/atrium/internal/web"
)

// Version is set at build time with -ldflags "-X …/server.Version=…".
var Version = "dev"

// GCPercent is the garbage collector's target the binary runs with unless
// GOGC says otherwise (cmd/atrium), and the in-process benchmarks too: the
// live heap is a few MiB, and collecting at 5x it instead of 2x costs
// little memory and measurably less CPU per request under load.
const GCPercent = 400

// Server is one running Atrium node.
type Server struct {
	cfg     *config.Config
	log     *slog.Logger
	store   store.Store
	handler http.Handler
	runner  *jobs.Runner
	signin  *signin.Service
	ready   atomic.Bool
}

// Open opens and bootstraps the store and builds the handler; Run serves it.
func Open(ctx context.Context, cfg *config.Config, getenv func(string) string, log *slog.Logger) (*Server, error) {
	db, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, func(ctx context.Context) error { return bootstrap(ctx, db, cfg, getenv, log) }); err != nil {
		db.Close()
		return nil, err
	}
	s, err := build(ctx, cfg, db, log)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func openStore(ctx context.Context, cfg *config.Config) (*sqlstore.DB, error) {
	if cfg.Database != "" {
		return postgres.Open(ctx, cfg.Database)
	}
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, filepath.Join(cfg.Data, "atrium.db"))
}

func build(ctx context.Context, cfg *config.Config, db store.Store, log *slog.Logger) (*Server, error) {
	key, err := pagerKey(ctx, db)
	if err != nil {
		return nil, err
	}
	var org *store.Organization
	if err := db.Read(ctx, func(tx store.Tx) error { org, err = tx.GetOrganization(ctx); return err }); err != nil {
		return nil, fmt.Errorf("organization: %w", err)
	}
	audited := audit.Wrap(db)
	pager := awsproto.NewPager(key)
	runner := jobs.NewRunner(audited, log)
	if db.Backend() == "sqlite" {
		// One writer runs each job's take, work and finish whole, in turn,
		// so jobs keep their order; concurrent ones share group commits.
		runner.Workers = 16
	}
	organizations := accounts.New(audited, runner, pager)

	s := &Server{cfg: cfg, log: log, store: db, runner: runner}
	m := newMetrics(db)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "not found", http.StatusNotFound)
	})
	authorizer := authz.New(db, org.ManagementAccountID)
	authn := creds.NewAuthenticator(db, org.ManagementAccountID)
	edge := &awsproto.Edge{Auth: authn, Audit: audited, Log: log, Observe: m.observe, Next: mux,
		Regions: map[string]bool{cfg.Region: true, "us-east-1": true}, Authorizer: authorizer}
	users := directory.New(audited, pager)
	signins, err := signin.New(ctx, audited, signin.Options{URL: cfg.URL})
	if err != nil {
		return nil, err
	}
	s.signin = signins
	portals := portal.New(audited, portal.Config{Pager: pager, SessionDuration: func(ctx context.Context) (time.Duration, error) {
		set, err := signins.Settings(ctx)
		return set.PortalSessionDuration, err
	}})
	authn.Revocation = portals // credentials from a sign-in session die with it
	logins := oauth.New(audited, portals, oauth.Config{URL: cfg.URL, StartURLAliases: cfg.StartURLAliases})
	pages, err := web.New(ctx, web.Options{Store: audited, SignIn: signins, Portal: portals, OAuth: logins, URL: cfg.URL, Log: log})
	if err != nil {
		return nil, err
	}
	pages.Register(mux)
	// Identity sources: each protocol registers its routes on mux; the
	// sign-in pages offer the sources and finish their sign-ins.
	sources := federation.New(federation.Options{Store: audited, BaseURL: cfg.URL, Directory: users, Logger: log})
	sources.SetPages(pages)
	pages.SetFederation(sources)
	openID, err := oidc.New(ctx, sources, oidc.Options{Log: log})
	if err != nil {
		return nil, err
	}
	sources.AddProtocol(openID, mux)
	samlSP, err := saml.New(ctx, sources, saml.Options{Log: log})
	if err != nil {
		return nil, err
	}
	sources.AddProtocol(samlSP, mux)
	provisioning := scim.New(audited, scim.Config{URL: cfg.URL, Log: log}) // SCIM 2.0 at /scim/v2
	provisioning.Register(mux)
	edge.Register(organizations.API(), creds.NewSTS(audited, authorizer).API(), access.New(audited, runner, pager, iam.Roles{}).API(), users.API(),
		adminapi.API(adminapi.Deps{Directory: users, Signin: signins, Sessions: portals, Sources: sources, Scim: provisioning, Mfa: signins}), iam.New(audited, pager).API(), portals.API(logins), logins.API())
	s.handler = edge
	return s, nil
}

// Handler is the node's HTTP handler (tests serve it with httptest).
func (s *Server) Handler() http.Handler { return s.handler }

// Store is the node's store.
func (s *Server) Store() store.Store { return s.store }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if !s.ready.Load() {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	if err := s.store.Ping(ctx); err != nil {
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Write([]byte("ok\n"))
}

// Start runs the background work (the job runner, the sweep of expired
// session credentials) until ctx ends, and marks the node ready.
func (s *Server) Start(ctx context.Context) {
	go s.runner.Run(ctx)
	go creds.SweepExpired(ctx, s.store, s.log)
	go s.signin.SweepThrottles(ctx, s.log)
	go portal.SweepExpired(ctx, s.store, s.log)
	go federation.SweepUsed(ctx, s.store, s.log)
	s.ready.Store(true)
}

// Run serves on the configured address until ctx is cancelled, then drains
// in-flight requests and returns nil.
func (s *Server) Run(ctx context.Context) error {
	defer s.store.Close()
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	s.Start(workCtx)
	errc := make(chan error, 1)
	go func() {
		if s.cfg.TLS() {
			errc <- srv.ServeTLS(ln, s.cfg.TLSCert, s.cfg.TLSKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	s.log.Info("atrium serving", "version", Version, "listen", ln.Addr().String(), "url", s.cfg.URL, "store", s.store.Backend(), "region", s.cfg.Region)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.ready.Store(false)
	s.log.Info("shutting down: draining in-flight requests")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	stopWork()
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
