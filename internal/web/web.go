// Package web is the person's side of Atrium: the sign-in pages (password,
// password change, MFA), the access portal at /start, and the approval pages
// of the device and authorization-code logins. Pages are rendered on the
// server; the only script is the one WebAuthn needs.
package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/atrium-sso/atrium/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// metaCookieKey names the store's shared secret behind sealed cookies and
// form tokens: every node reads the same one, so a sign-in may cross nodes.
const metaCookieKey = "web-cookie-key"

// Options are what New composes.
type Options struct {
	Store  store.Store
	SignIn SignIn
	Portal Portal
	OAuth  OAuth
	// URL is the public base URL (https makes responses carry HSTS).
	URL string
	Log *slog.Logger
}

// Web serves the pages.
type Web struct {
	store   store.Store
	signin  SignIn
	portal  Portal
	oauth   OAuth
	log     *slog.Logger
	keys    *keys
	pages   map[string]*template.Template
	https   bool
	storeID string
	cop     *http.CrossOriginProtection
	fed     Federation // identity providers; nil when none are wired
}

// New builds the pages on the store's shared cookie key (created on first use).
func New(ctx context.Context, o Options) (*Web, error) {
	secret, err := store.Secret(ctx, o.Store, metaCookieKey)
	if err != nil {
		return nil, err
	}
	k, err := newKeys(secret)
	if err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	storeID, err := identityStoreID(ctx, o.Store)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(o.URL)
	if err != nil {
		return nil, fmt.Errorf("web: base URL: %w", err)
	}
	w := &Web{store: o.Store, signin: o.SignIn, portal: o.Portal, oauth: o.OAuth, log: o.Log, keys: k, pages: pages,
		https: u.Scheme == "https", storeID: storeID, cop: http.NewCrossOriginProtection()}
	if w.log == nil {
		w.log = slog.Default()
	}
	w.cop.SetDenyHandler(http.HandlerFunc(w.crossOrigin))
	return w, nil
}

// identityStoreID is the instance's directory, where people sign in.
func identityStoreID(ctx context.Context, db store.Store) (string, error) {
	var instances []store.Instance
	err := db.Read(ctx, func(tx store.Tx) error {
		var err error
		instances, err = tx.ListInstances(ctx)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("web: instance: %w", err)
	}
	if len(instances) == 0 {
		return "", errors.New("web: no Identity Center instance")
	}
	return instances[0].IdentityStoreID, nil
}

func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).ParseFS(templateFS, "templates/layout.html", n)
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// Register adds the pages' routes to mux.
func (w *Web) Register(mux *http.ServeMux) {
	routes := map[string]http.HandlerFunc{
		"GET /{$}":                         func(rw http.ResponseWriter, r *http.Request) { redirect(rw, "/start") },
		"GET /start":                       w.start,
		"POST /start/credentials":          w.credentials,
		"GET /start/mfa":                   w.devicesPage,
		"GET /start/mfa/qr.png":            w.devicesQR,
		"POST /start/mfa/totp":             w.addTOTP,
		"POST /start/mfa/webauthn":         w.addWebAuthn,
		"POST /start/mfa/remove":           w.removeDevice,
		"POST /start/mfa/confirm":          w.confirmIdentity,
		"POST /signout":                    w.signOut,
		"GET /signin":                      w.signInPage,
		"POST /signin":                     w.username,
		"GET /signin/password":             w.passwordPage,
		"POST /signin/password":            w.password,
		"GET /signin/new-password":         w.newPasswordPage,
		"POST /signin/new-password":        w.newPassword,
		"GET /signin/mfa":                  w.mfaPage,
		"POST /signin/mfa":                 w.mfaCode,
		"POST /signin/mfa/webauthn":        w.mfaWebAuthn,
		"GET /signin/mfa/enroll":           w.enrollPage,
		"GET /signin/mfa/enroll/qr.png":    w.enrollQR,
		"POST /signin/mfa/enroll/totp":     w.enrollTOTP,
		"POST /signin/mfa/enroll/webauthn": w.enrollWebAuthn,
		"GET /device":                      w.devicePage,
		"POST /device":                     w.deviceDecision,
		"GET /authorize":                   w.authorizePage,
		"POST /authorize":                  w.authorizeDecision,
	}
	for pattern, h := range routes {
		mux.Handle(pattern, w.secure(h))
	}
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	mux.Handle("GET /static/", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		rw.Header().Set("X-Content-Type-Options", "nosniff")
		rw.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(rw, r)
	}))
}

// The policy for every page: nothing but our own script and style, forms
// posted only to us, never framed.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure wraps a page: the security headers, no caching (pages carry
// credentials and codes), and cross-origin protection on state-changing
// requests (its refusals get the headers too).
func (w *Web) secure(h http.HandlerFunc) http.Handler {
	protected := w.cop.Handler(h)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		hd := rw.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		if w.https {
			hd.Set("Strict-Transport-Security", "max-age=31536000")
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(rw, r.Body, 64<<10)
		}
		protected.ServeHTTP(rw, r)
	})
}

// crossOrigin answers a state-changing request another site's page sent.
func (w *Web) crossOrigin(rw http.ResponseWriter, r *http.Request) {
	w.render(rw, http.StatusForbidden, "message", messageView{base: base{Title: "Request refused"},
		Message: "This request came from another site and was refused. Go to the Atrium page itself and try again."})
}

// base is what every page shows.
type base struct {
	Title    string
	CSRF     string
	Error    string
	UserName string // signed-in user, when there is one
}

type messageView struct {
	base
	Message  string
	Link     string
	LinkText string
}

func (w *Web) render(rw http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := w.pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		w.log.Error("web: render", "page", name, "err", err)
		http.Error(rw, "internal error", http.StatusInternalServerError)
		return
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.WriteHeader(status)
	rw.Write(buf.Bytes())
}

// fail shows an unexpected error without its details, which go to the log.
func (w *Web) fail(rw http.ResponseWriter, r *http.Request, err error) {
	w.log.Error("web: request failed", "path", r.URL.Path, "err", err)
	w.render(rw, http.StatusInternalServerError, "message", messageView{base: base{Title: "Something went wrong"},
		Message: "Atrium could not complete this request. Try again in a moment.", Link: "/start", LinkText: "Go to the access portal"})
}

// refuse shows why a request cannot go on.
func (w *Web) refuse(rw http.ResponseWriter, status int, title, message string) {
	w.render(rw, status, "message", messageView{base: base{Title: title}, Message: message})
}

// redirect sends the browser to a path of ours with a GET.
func redirect(rw http.ResponseWriter, path string) {
	rw.Header().Set("Location", path)
	rw.WriteHeader(http.StatusSeeOther)
}

func sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// localNext is where a sign-in that began at next may lead: one of the
// pages that send people to sign in, with its query; anything else (another
// host, a scheme, a path that browsers read as another host) is /start.
func localNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n\t ") {
		return "/start"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" {
		return "/start"
	}
	switch u.Path {
	case "/start", "/device", "/authorize":
		if u.RawQuery == "" {
			return u.Path
		}
		return u.Path + "?" + u.RawQuery
	}
	return "/start"
}

// signInFirst sends a browser without a session to sign in, coming back here.
func signInFirst(rw http.ResponseWriter, r *http.Request) {
	redirect(rw, "/signin?next="+url.QueryEscape(localNext(r.URL.RequestURI())))
}
