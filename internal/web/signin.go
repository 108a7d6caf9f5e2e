package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/signin"
	"github.com/atrium-sso/atrium/internal/store"
)

// flowLifetime bounds a sign-in from the username to the session.
const flowLifetime = 15 * time.Minute

// step is where a sign-in stands; each has its page.
type step string

const (
	stepUsername    step = "username"
	stepPassword    step = "password"
	stepNewPassword step = "new-password"
	stepMFA         step = "mfa"
	stepEnroll      step = "mfa-enroll"
)

func (s step) path() string {
	switch s {
	case stepPassword:
		return "/signin/password"
	case stepNewPassword:
		return "/signin/new-password"
	case stepMFA:
		return "/signin/mfa"
	case stepEnroll:
		return "/signin/mfa/enroll"
	}
	return "/signin"
}

// flow is a sign-in in progress, sealed in the flow cookie, so any node can
// carry it on. Its id binds the forms' tokens and is replaced whenever the
// person proves more (password, new password), so a value seen before a
// step is worth nothing after it. At the steps that change what its holder
// may do (a new password, a registered device, the session) the id is
// also spent in the store (spend): a cookie replayed there, by whoever
// captured it or by the browser that already went on, is refused.
type flow struct {
	ID          string                 `json:"id"`
	Workflow    string                 `json:"wf"` // the sign-in's id in its audit records; never changes
	Step        step                   `json:"step"`
	UserName    string                 `json:"user,omitempty"`
	UserID      string                 `json:"uid,omitempty"`
	Methods     []string               `json:"methods,omitempty"`
	MFA         signin.MFAStep         `json:"mfa,omitempty"`
	HasTOTP     bool                   `json:"hasTotp,omitempty"`
	HasWebAuthn bool                   `json:"hasWebauthn,omitempty"`
	TOTP        *signin.TOTPEnrollment `json:"totp,omitempty"`     // enrollment under way, without its picture
	WebAuthn    []byte                 `json:"webauthn,omitempty"` // ceremony state
	Next        string                 `json:"next,omitempty"`
	Tags        map[string]string      `json:"tags,omitempty"` // session tags an identity provider asserted
	Expires     int64                  `json:"exp"`

	trust bool // finish remembers the browser (this request only)
}

func newFlow(next string) *flow {
	return &flow{ID: ids.Hex(16), Workflow: ids.UUID(), Step: stepUsername, Next: localNext(next), Expires: time.Now().Add(flowLifetime).Unix()}
}

// spend uses the flow's id up for good, then gives the flow a new one.
// It answers false, after refusing the request, when the id was used
// before: this cookie was replayed.
func (w *Web) spend(rw http.ResponseWriter, r *http.Request, f *flow) bool {
	ctx := r.Context()
	var fresh bool
	err := w.store.Write(ctx, func(tx store.Tx) error {
		var err error
		fresh, err = tx.UseOnce(ctx, "signin-flow:"+f.ID, time.Unix(f.Expires, 0))
		return err
	})
	if err != nil {
		w.fail(rw, r, err)
		return false
	}
	if !fresh {
		w.log.Warn("web: a spent sign-in flow was replayed", "step", f.Step, "source", sourceIP(r))
		clearCookie(rw, flowCookie)
		w.render(rw, http.StatusForbidden, "message", messageView{base: base{Title: "Sign-in already used"},
			Message: "This sign-in was already completed or used. Start again.", Link: "/signin", LinkText: "Sign in"})
		return false
	}
	f.promote()
	return true
}

// auditOpts places a flow's sign-in records: where from, which sign-in.
func (f *flow) auditOpts(r *http.Request) []signin.CheckOption {
	return []signin.CheckOption{signin.FromSource(sourceIP(r)), signin.InWorkflow(f.Workflow)}
}

// promote gives the flow a new id: its holder has just proved more.
func (f *flow) promote() { f.ID = ids.Hex(16) }

func (w *Web) loadFlow(r *http.Request) *flow {
	v := cookieValue(r, flowCookie)
	if v == "" {
		return nil
	}
	var f flow
	if err := w.keys.open(flowCookie, v, &f); err != nil || time.Now().Unix() >= f.Expires {
		return nil
	}
	return &f
}

func (w *Web) saveFlow(rw http.ResponseWriter, f *flow) error {
	v, err := w.keys.seal(flowCookie, f)
	if err != nil {
		return err
	}
	// Strict: the flow is only ever carried on from Atrium's own pages.
	setCookie(rw, flowCookie, v, time.Unix(f.Expires, 0), http.SameSiteStrictMode)
	return nil
}

// advance stores the flow and shows the page of its step.
func (w *Web) advance(rw http.ResponseWriter, r *http.Request, f *flow) {
	if err := w.saveFlow(rw, f); err != nil {
		w.fail(rw, r, err)
		return
	}
	redirect(rw, f.Step.path())
}

// pageFlow is the flow a step's page shows, or nil after sending the
// browser where its sign-in really stands.
func (w *Web) pageFlow(rw http.ResponseWriter, r *http.Request, s step) *flow {
	f := w.loadFlow(r)
	if f == nil {
		redirect(rw, "/signin")
		return nil
	}
	if f.Step != s {
		redirect(rw, f.Step.path())
		return nil
	}
	return f
}

// postedFlow is the flow a form was posted in, when the form's token is the
// flow's and the flow is at one of steps; otherwise the request is refused.
func (w *Web) postedFlow(rw http.ResponseWriter, r *http.Request, steps ...step) *flow {
	f := w.loadFlow(r)
	if f == nil {
		w.render(rw, http.StatusForbidden, "message", messageView{base: base{Title: "Sign-in expired"},
			Message: "This sign-in has expired or your browser did not keep its cookie. Start again.", Link: "/signin", LinkText: "Sign in"})
		return nil
	}
	if !w.keys.checkFormToken(f.ID, r.PostFormValue("csrf")) {
		w.forged(rw)
		return nil
	}
	if !slices.Contains(steps, f.Step) {
		redirect(rw, f.Step.path())
		return nil
	}
	return f
}

// forged answers a form whose token is missing or not the one we gave.
func (w *Web) forged(rw http.ResponseWriter) {
	w.render(rw, http.StatusForbidden, "message", messageView{base: base{Title: "Request refused"},
		Message: "This form is out of date or did not come from this page. Go back, reload the page and try again."})
}

// signInPage starts a sign-in (a fresh flow each time), or goes straight on
// for someone already signed in.
func (w *Web) signInPage(rw http.ResponseWriter, r *http.Request) {
	next := localNext(r.URL.Query().Get("next"))
	if sess, err := w.session(r); err != nil {
		w.fail(rw, r, err)
		return
	} else if sess != nil {
		redirect(rw, next)
		return
	}
	f := newFlow(next)
	if err := w.saveFlow(rw, f); err != nil {
		w.fail(rw, r, err)
		return
	}
	w.render(rw, http.StatusOK, "username", w.usernameView(r, f, ""))
}

func (w *Web) username(rw http.ResponseWriter, r *http.Request) {
	f := w.postedFlow(rw, r, stepUsername, stepPassword)
	if f == nil {
		return
	}
	name := strings.TrimSpace(r.PostFormValue("username"))
	if name == "" || len(name) > 128 {
		w.render(rw, http.StatusBadRequest, "username", w.usernameView(r, f, "Enter your username."))
		return
	}
	if w.routeToIdP(rw, r, f, name) {
		return
	}
	// Any name goes on to the password page: whether it exists is not told.
	f.UserName, f.Step = name, stepPassword
	w.advance(rw, r, f)
}

type passwordView struct {
	base
	SigningInAs string
	Next        string
}

func (w *Web) passwordPage(rw http.ResponseWriter, r *http.Request) {
	if f := w.pageFlow(rw, r, stepPassword); f != nil {
		w.renderPassword(rw, f, http.StatusOK, "")
	}
}

func (w *Web) renderPassword(rw http.ResponseWriter, f *flow, status int, msg string) {
	w.render(rw, status, "password", passwordView{base: base{Title: "Sign in", CSRF: w.keys.formToken(f.ID), Error: msg},
		SigningInAs: f.UserName, Next: f.Next})
}

// badCredentials is the one answer for an unknown user, a wrong password, a
// disabled user and a throttled attempt: none of them tells which it was.
const badCredentials = "The username or password is not correct, or there were too many attempts. Check them, or wait a few minutes, and try again."

func (w *Web) password(rw http.ResponseWriter, r *http.Request) {
	f := w.postedFlow(rw, r, stepPassword)
	if f == nil {
		return
	}
	var opts []signin.CheckOption
	if device := cookieValue(r, deviceCookie); device != "" {
		opts = append(opts, signin.FromDevice(device))
	}
	opts = append(opts, signin.InWorkflow(f.Workflow))
	a, err := w.signin.CheckPassword(r.Context(), w.storeID, f.UserName, r.PostFormValue("password"), sourceIP(r), opts...)
	switch {
	case errors.Is(err, signin.ErrBadCredentials), errors.Is(err, signin.ErrThrottled):
		w.renderPassword(rw, f, http.StatusUnauthorized, badCredentials)
		return
	case err != nil:
		w.fail(rw, r, err)
		return
	}
	f.promote()
	f.UserID, f.Methods = a.User.ID, []string{"pwd"}
	f.MFA, f.HasTOTP, f.HasWebAuthn = a.MFA, a.HasTOTP, a.HasWebAuthn
	if a.MustChangePassword {
		f.Step = stepNewPassword
		w.advance(rw, r, f)
		return
	}
	w.afterPassword(rw, r, f)
}

// afterPassword takes a flow whose password is settled to its MFA step
// (signin decides it, a remembered browser included), or finishes it.
func (w *Web) afterPassword(rw http.ResponseWriter, r *http.Request, f *flow) {
	switch f.MFA {
	case signin.MFANone:
		w.finish(rw, r, f)
	case signin.MFAEnroll:
		f.Step = stepEnroll
		w.advance(rw, r, f)
	default:
		f.Step = stepMFA
		w.advance(rw, r, f)
	}
}

func (w *Web) newPasswordPage(rw http.ResponseWriter, r *http.Request) {
	if f := w.pageFlow(rw, r, stepNewPassword); f != nil {
		w.render(rw, http.StatusOK, "new-password", base{Title: "Set a new password", CSRF: w.keys.formToken(f.ID)})
	}
}

func (w *Web) newPassword(rw http.ResponseWriter, r *http.Request) {
	f := w.postedFlow(rw, r, stepNewPassword)
	if f == nil || !w.spend(rw, r, f) {
		return
	}
	again := func(msg string) {
		if err := w.saveFlow(rw, f); err != nil { // under its new id
			w.fail(rw, r, err)
			return
		}
		w.render(rw, http.StatusBadRequest, "new-password", base{Title: "Set a new password", CSRF: w.keys.formToken(f.ID), Error: msg})
	}
	pw := r.PostFormValue("new_password")
	if pw != r.PostFormValue("confirm_password") {
		again("The two passwords are not the same.")
		return
	}
	err := w.signin.ChangePassword(r.Context(), w.storeID, f.UserID, pw)
	var policy *signin.PolicyError
	switch {
	case userGone(err):
		w.userGone(rw)
		return
	case errors.As(err, &policy):
		again(policy.Message)
		return
	case err != nil:
		w.fail(rw, r, err)
		return
	}
	w.afterPassword(rw, r, f)
}

// finish ends a sign-in: its flow spent for good, a new session, its
// cookie, and the page it began at.
func (w *Web) finish(rw http.ResponseWriter, r *http.Request, f *flow) {
	if !w.spend(rw, r, f) {
		return
	}
	var user *store.User
	err := w.store.Read(r.Context(), func(tx store.Tx) error {
		var err error
		user, err = tx.GetUser(r.Context(), w.storeID, f.UserID)
		return err
	})
	if errors.Is(err, store.ErrNotFound) || (err == nil && user.Status == store.UserDisabled) {
		w.userGone(rw)
		return
	}
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	token, sess, err := w.portal.StartSession(r.Context(), user, f.Methods, sourceIP(r), r.UserAgent(), f.Tags)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	if err := w.signin.Authenticated(r.Context(), w.storeID, user.ID, credentialTypes(f.Methods), f.Next, f.auditOpts(r)...); userGone(err) {
		w.userGone(rw) // deleted this instant: its session dies with it
		return
	} else if err != nil {
		w.fail(rw, r, err)
		return
	}
	if f.trust {
		if !w.rememberBrowser(rw, r, f) {
			return
		}
	}
	setCookie(rw, sessionCookie, token, sess.ExpiresAt, http.SameSiteLaxMode)
	clearCookie(rw, flowCookie)
	redirect(rw, localNext(f.Next))
}

// credentialTypes names a session's methods as sign-in records do.
func credentialTypes(methods []string) []string {
	out := make([]string, 0, len(methods))
	for _, m := range methods {
		switch m {
		case "pwd":
			out = append(out, signin.CredentialPassword)
		case "totp":
			out = append(out, signin.CredentialTOTP)
		case "webauthn":
			out = append(out, signin.CredentialWebAuthn)
		default:
			out = append(out, strings.ToUpper(m))
		}
	}
	return out
}

// userGone reports the errors signin gives once the password is behind us
// for a user who was disabled or deleted meanwhile.
func userGone(err error) bool {
	return errors.Is(err, signin.ErrBadCredentials) || errors.Is(err, signin.ErrUserNotFound)
}

// userGone ends a sign-in whose user was disabled or deleted meanwhile.
func (w *Web) userGone(rw http.ResponseWriter) {
	clearCookie(rw, flowCookie)
	w.render(rw, http.StatusForbidden, "message", messageView{base: base{Title: "Sign-in failed"},
		Message: "This user cannot sign in.", Link: "/signin", LinkText: "Sign in"})
}
