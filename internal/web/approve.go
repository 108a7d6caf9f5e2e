package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/atrium-sso/atrium/internal/oauth"
	"github.com/atrium-sso/atrium/internal/portal"
)

type deviceCodeView struct {
	base
	UserCode string
}

type deviceApproveView struct {
	base
	ClientName string
	UserCode   string
	Scopes     []string
}

// devicePage is the device login's verification page: sign in first, then
// the code (pre-filled from the link the client printed), then approval.
func (w *Web) devicePage(rw http.ResponseWriter, r *http.Request) {
	sess, err := w.session(r)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	if sess == nil {
		signInFirst(rw, r)
		return
	}
	code := r.URL.Query().Get("user_code") // oauth forgives case and spacing
	if code == "" {
		w.render(rw, http.StatusOK, "device-code", deviceCodeView{base: w.signedIn(sess, "Authorize a device")})
		return
	}
	g, err := w.oauth.DeviceGrant(r.Context(), code)
	if w.badUserCode(rw, sess, code, err) {
		return
	}
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	w.render(rw, http.StatusOK, "device-approve", deviceApproveView{base: w.signedIn(sess, "Allow access?"),
		ClientName: g.ClientName, UserCode: g.UserCode, Scopes: g.Scopes})
}

func withError(b base, msg string) base { b.Error = msg; return b }

// badUserCode shows the code form again, with why, for a code that names
// no pending authorization or after too many such codes.
func (w *Web) badUserCode(rw http.ResponseWriter, sess *portal.Session, code string, err error) bool {
	status, msg := http.StatusNotFound, "That code is not valid, has expired or was used already. Check the code your terminal shows, or start the login there again."
	switch {
	case errors.Is(err, oauth.ErrThrottled):
		status, msg = http.StatusTooManyRequests, "Too many codes that did not match were entered. Wait a few minutes and try again."
	case !errors.Is(err, oauth.ErrNotFound):
		return false
	}
	w.render(rw, status, "device-code", deviceCodeView{base: withError(w.signedIn(sess, "Authorize a device"), msg), UserCode: code})
	return true
}

func (w *Web) deviceDecision(rw http.ResponseWriter, r *http.Request) {
	sess := w.postedSession(rw, r)
	if sess == nil {
		return
	}
	code := r.PostFormValue("user_code")
	var err error
	switch r.PostFormValue("decision") {
	case "allow":
		err = w.oauth.ApproveDevice(r.Context(), code, sess)
	case "deny":
		err = w.oauth.DenyDevice(r.Context(), code)
	default:
		w.refuse(rw, http.StatusBadRequest, "Choose Allow or Deny", "Go back and choose Allow or Deny.")
		return
	}
	if w.badUserCode(rw, sess, code, err) {
		return
	}
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	if r.PostFormValue("decision") == "deny" {
		w.render(rw, http.StatusOK, "message", messageView{base: w.signedIn(sess, "Access denied"),
			Message: "You denied access. The application does not get a token. You can close this window."})
		return
	}
	w.render(rw, http.StatusOK, "message", messageView{base: w.signedIn(sess, "Access allowed"),
		Message: "You allowed access. Return to your terminal; you can close this window."})
}

type authorizeView struct {
	base
	ClientName string
	Scopes     []string
	Request    string // the authorization request's query, posted back with the decision
}

// authorizePage is GET /authorize, as the AWS CLI opens it: a request that
// cannot be answered at its redirect URI is explained here; otherwise sign
// in first, then approve.
func (w *Web) authorizePage(rw http.ResponseWriter, r *http.Request) {
	req, err := w.oauth.ParseAuthorize(r.Context(), r.URL.Query())
	if err != nil {
		w.badAuthorize(rw, r, err)
		return
	}
	sess, err := w.session(r)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	if sess == nil {
		signInFirst(rw, r)
		return
	}
	allowFormRedirect(rw, req.RedirectURI)
	w.render(rw, http.StatusOK, "authorize", authorizeView{base: w.signedIn(sess, "Allow access?"),
		ClientName: req.ClientName, Scopes: req.Scopes, Request: r.URL.RawQuery})
}

func (w *Web) authorizeDecision(rw http.ResponseWriter, r *http.Request) {
	sess := w.postedSession(rw, r)
	if sess == nil {
		return
	}
	q, err := url.ParseQuery(r.PostFormValue("request"))
	if err != nil {
		w.refuse(rw, http.StatusBadRequest, "Request not valid", "This authorization request is not valid. Start the login again.")
		return
	}
	req, err := w.oauth.ParseAuthorize(r.Context(), q)
	if err != nil {
		w.badAuthorize(rw, r, err)
		return
	}
	switch r.PostFormValue("decision") {
	case "allow":
		to, err := w.oauth.IssueCode(r.Context(), req, sess)
		if err != nil {
			w.fail(rw, r, err)
			return
		}
		redirect(rw, to)
	case "deny":
		redirect(rw, w.oauth.DenyAuthorize(req))
	default:
		w.refuse(rw, http.StatusBadRequest, "Choose Allow or Deny", "Go back and choose Allow or Deny.")
	}
}

// badAuthorize answers a refused authorization request: at the client's
// redirect URI when oauth vouches for it, otherwise on a page, never by
// redirecting to an address nobody registered.
func (w *Web) badAuthorize(rw http.ResponseWriter, r *http.Request, err error) {
	var refused *oauth.AuthorizeError
	if !errors.As(err, &refused) {
		w.fail(rw, r, err)
		return
	}
	if refused.RedirectURL != "" {
		redirect(rw, refused.RedirectURL)
		return
	}
	w.refuse(rw, http.StatusBadRequest, "Login request not valid", "The application sent a login request Atrium cannot accept: "+refused.Description)
}

// allowFormRedirect lets the approval form's answer redirect to the
// client's (already validated) redirect URI: browsers apply form-action to
// where a form's response redirects too.
func allowFormRedirect(rw http.ResponseWriter, redirectURI string) {
	u, err := url.Parse(redirectURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(u.Host, " ;,'\"") {
		return
	}
	rw.Header().Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' "+u.Scheme+"://"+u.Host, 1))
}
