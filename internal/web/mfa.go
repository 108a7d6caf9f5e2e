package web

import (
	"bytes"
	"errors"
	"image/png"
	"net/http"
	"strings"

	"github.com/pquerna/otp"

	"github.com/atrium-sso/atrium/internal/signin"
)

// The issuer authenticator apps show beside the user name.
const totpIssuer = "Atrium"

// Names given to devices registered while signing in.
const (
	totpDeviceName     = "Authenticator app"
	webAuthnDeviceName = "Security key"
)

type mfaView struct {
	base
	TOTP        bool
	WebAuthn    string // the login ceremony's options (JSON), when the user has a key
	OfferTrust  bool
	CodeInvalid bool
}

func (w *Web) mfaPage(rw http.ResponseWriter, r *http.Request) {
	if f := w.pageFlow(rw, r, stepMFA); f != nil {
		w.renderMFA(rw, r, f, http.StatusOK, "")
	}
}

// renderMFA shows the verification page; a new WebAuthn challenge each time.
func (w *Web) renderMFA(rw http.ResponseWriter, r *http.Request, f *flow, status int, msg string) {
	settings, err := w.signin.Settings(r.Context())
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	v := mfaView{base: base{Title: "Verify your identity", CSRF: w.keys.formToken(f.ID), Error: msg},
		TOTP: f.HasTOTP, OfferTrust: settings.MFAPrompt == signin.PromptNewContext, CodeInvalid: msg != "" && f.HasTOTP}
	var asked []string
	if f.HasTOTP {
		asked = append(asked, signin.CredentialTOTP)
	}
	if f.HasWebAuthn && w.signin.WebAuthnAvailable() {
		asked = append(asked, signin.CredentialWebAuthn)
	}
	if err := w.signin.Challenge(r.Context(), w.storeID, f.UserID, asked, false, f.auditOpts(r)...); userGone(err) {
		w.userGone(rw)
		return
	} else if err != nil {
		w.fail(rw, r, err)
		return
	}
	if f.HasWebAuthn && w.signin.WebAuthnAvailable() {
		options, state, err := w.signin.BeginWebAuthnLogin(r.Context(), w.storeID, f.UserID)
		if userGone(err) {
			w.userGone(rw)
			return
		}
		if err != nil {
			w.fail(rw, r, err)
			return
		}
		f.WebAuthn, v.WebAuthn = state, string(options)
		if err := w.saveFlow(rw, f); err != nil {
			w.fail(rw, r, err)
			return
		}
	}
	w.render(rw, status, "mfa", v)
}

const (
	badCode     = "That code did not work. Wait for the next code from your authenticator app and enter it."
	badWebAuthn = "The security key check did not succeed. Try again."
)

func (w *Web) mfaCode(rw http.ResponseWriter, r *http.Request) {
	f := w.postedFlow(rw, r, stepMFA)
	if f == nil {
		return
	}
	err := w.signin.VerifyTOTP(r.Context(), w.storeID, f.UserID, strings.TrimSpace(r.PostFormValue("code")), f.auditOpts(r)...)
	switch {
	case userGone(err):
		w.userGone(rw)
		return
	case errors.Is(err, signin.ErrBadCode), errors.Is(err, signin.ErrThrottled):
		w.renderMFA(rw, r, f, http.StatusUnauthorized, badCode)
		return
	case err != nil:
		w.fail(rw, r, err)
		return
	}
	w.passedMFA(rw, r, f, "totp")
}

func (w *Web) mfaWebAuthn(rw http.ResponseWriter, r *http.Request) {
	f := w.postedFlow(rw, r, stepMFA)
	if f == nil {
		return
	}
	err := w.signin.FinishWebAuthnLogin(r.Context(), w.storeID, f.UserID, f.WebAuthn, credentialRequest(r), f.auditOpts(r)...)
	if userGone(err) {
		w.userGone(rw)
		return
	}
	if err != nil {
		w.log.Info("web: WebAuthn login refused", "err", err)
		w.renderMFA(rw, r, f, http.StatusUnauthorized, badWebAuthn)
		return
	}
	w.passedMFA(rw, r, f, "webauthn")
}

// passedMFA finishes a sign-in after a second factor, remembering the
// browser when the person asked (see rememberBrowser).
func (w *Web) passedMFA(rw http.ResponseWriter, r *http.Request, f *flow, method string) {
	f.trust = r.PostFormValue("trust") != ""
	f.Methods = append(f.Methods, method)
	w.finish(rw, r, f)
}

// rememberBrowser marks the browser as a known context for the flow's
// user when the instance prompts by context; false after answering an error.
func (w *Web) rememberBrowser(rw http.ResponseWriter, r *http.Request, f *flow) bool {
	settings, err := w.signin.Settings(r.Context())
	if err != nil {
		w.fail(rw, r, err)
		return false
	}
	if settings.MFAPrompt != signin.PromptNewContext {
		return true
	}
	token, expires, err := w.signin.RememberDevice(r.Context(), w.storeID, f.UserID)
	if err != nil {
		w.fail(rw, r, err)
		return false
	}
	setCookie(rw, deviceCookie, token, expires, http.SameSiteStrictMode)
	return true
}

// credentialRequest is the WebAuthn response the page's script put in the
// form, as the JSON request body the ceremony's parser reads.
func credentialRequest(r *http.Request) *http.Request {
	body := r.PostFormValue("credential")
	req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, r.URL.String(), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return req
}

type enrollView struct {
	base
	Secret      string // the TOTP key, grouped for reading aloud or typing
	WebAuthn    string // the registration ceremony's options (JSON)
	CodeInvalid bool
}

func (w *Web) enrollPage(rw http.ResponseWriter, r *http.Request) {
	if f := w.pageFlow(rw, r, stepEnroll); f != nil {
		w.renderEnroll(rw, r, f, http.StatusOK, "", false)
	}
}

// renderEnroll shows both ways to register a device: an authenticator app
// (the same key until the flow ends) and a security key (a new challenge).
func (w *Web) renderEnroll(rw http.ResponseWriter, r *http.Request, f *flow, status int, msg string, codeInvalid bool) {
	ctx := r.Context()
	if f.TOTP == nil {
		e, err := w.signin.BeginTOTPEnrollment(ctx, w.storeID, f.UserID, totpIssuer)
		if userGone(err) {
			w.userGone(rw)
			return
		}
		if err != nil {
			w.fail(rw, r, err)
			return
		}
		e.QRPNG = nil // the cookie has no room for it; /signin/mfa/enroll/qr.png draws it
		f.TOTP = e
	}
	asked := []string{signin.CredentialTOTP}
	if w.signin.WebAuthnAvailable() {
		asked = append(asked, signin.CredentialWebAuthn)
	}
	if err := w.signin.Challenge(ctx, w.storeID, f.UserID, asked, true, f.auditOpts(r)...); userGone(err) {
		w.userGone(rw)
		return
	} else if err != nil {
		w.fail(rw, r, err)
		return
	}
	var options []byte
	if w.signin.WebAuthnAvailable() {
		opts, state, err := w.signin.BeginWebAuthnRegistration(ctx, w.storeID, f.UserID)
		if userGone(err) {
			w.userGone(rw)
			return
		}
		if err != nil {
			w.fail(rw, r, err)
			return
		}
		options, f.WebAuthn = opts, state
	}
	if err := w.saveFlow(rw, f); err != nil {
		w.fail(rw, r, err)
		return
	}
	w.render(rw, status, "enroll", enrollView{base: base{Title: "Register an MFA device", CSRF: w.keys.formToken(f.ID), Error: msg},
		Secret: groupSecret(f.TOTP.Secret), WebAuthn: string(options), CodeInvalid: codeInvalid})
}

func groupSecret(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// enrollQR draws the enrollment's otpauth URL as a QR code.
func (w *Web) enrollQR(rw http.ResponseWriter, r *http.Request) {
	f := w.loadFlow(r)
	if f == nil || f.Step != stepEnroll || f.TOTP == nil {
		http.NotFound(rw, r)
		return
	}
	key, err := otp.NewKeyFromURL(f.TOTP.URL)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	img, err := key.Image(240, 240)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		w.fail(rw, r, err)
		return
	}
	rw.Header().Set("Content-Type", "image/png")
	rw.Write(buf.Bytes())
}

func (w *Web) enrollTOTP(rw http.ResponseWriter, r *http.Request) {
	f := w.postedFlow(rw, r, stepEnroll)
	if f == nil {
		return
	}
	if f.TOTP == nil {
		redirect(rw, stepEnroll.path())
		return
	}
	if !w.spend(rw, r, f) {
		return
	}
	err := w.signin.FinishTOTPEnrollment(r.Context(), w.storeID, f.UserID, f.TOTP, strings.TrimSpace(r.PostFormValue("code")), totpDeviceName)
	switch {
	case userGone(err):
		w.userGone(rw)
		return
	case errors.Is(err, signin.ErrBadCode), errors.Is(err, signin.ErrThrottled):
		w.renderEnroll(rw, r, f, http.StatusUnauthorized, badCode, true)
		return
	case err != nil:
		w.fail(rw, r, err)
		return
	}
	w.passedMFA(rw, r, f, "totp")
}

func (w *Web) enrollWebAuthn(rw http.ResponseWriter, r *http.Request) {
	f := w.postedFlow(rw, r, stepEnroll)
	if f == nil || !w.spend(rw, r, f) {
		return
	}
	err := w.signin.FinishWebAuthnRegistration(r.Context(), w.storeID, f.UserID, f.WebAuthn, credentialRequest(r), webAuthnDeviceName)
	if userGone(err) {
		w.userGone(rw)
		return
	}
	if err != nil {
		w.log.Info("web: WebAuthn registration refused", "err", err)
		w.renderEnroll(rw, r, f, http.StatusBadRequest, "The security key was not registered. Try again.", false)
		return
	}
	w.passedMFA(rw, r, f, "webauthn")
}
