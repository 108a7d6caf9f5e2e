package web

import (
	"bytes"
	"errors"
	"image/png"
	"net/http"
	"strings"
	"time"

	"github.com/pquerna/otp"

	"github.com/atrium-sso/atrium/internal/portal"
	"github.com/atrium-sso/atrium/internal/signin"
	"github.com/atrium-sso/atrium/internal/store"
)

// The MFA devices page (/start/mfa): a signed-in person sees their
// authenticator apps and security keys, registers more (up to signin's
// limits) and removes one after proving again who they are — with a
// current code, a security key or their password — never their last one
// while MFA is required. Registering needs a sign-in or such a proof
// within reauthWindow: a browser left signed in, or a stolen session
// cookie, must not let someone else add an authenticator of their own and
// with it a lasting second factor.

// devicesCookie holds the page's ceremonies in progress (an app's key
// being registered, WebAuthn challenges), sealed and bound to the session.
const devicesCookie = "__Host-atrium-mfa"

// devicesLifetime bounds how long the page's ceremonies stay open.
const devicesLifetime = 15 * time.Minute

// reauthWindow is how recent a sign-in or a confirmation must be to add a device.
const reauthWindow = 10 * time.Minute

type devicesState struct {
	SessionID string                 `json:"sid"`
	TOTP      *signin.TOTPEnrollment `json:"totp,omitempty"` // without its picture
	Register  []byte                 `json:"reg,omitempty"`  // WebAuthn registration ceremony
	Verify    []byte                 `json:"ver,omitempty"`  // WebAuthn login ceremony, to confirm a removal or an addition
	Confirmed int64                  `json:"ok,omitempty"`   // when the person last proved again who they are (Unix seconds)
	Expires   int64                  `json:"exp"`
}

// recentlyProved reports whether the session's person signed in, or
// proved again who they are, within reauthWindow.
func recentlyProved(sess *portal.Session, st *devicesState) bool {
	since := sess.CreatedAt
	if c := time.Unix(st.Confirmed, 0); st.Confirmed != 0 && c.After(since) {
		since = c
	}
	return time.Since(since) < reauthWindow
}

// confirm records that the person proved again who they are at now, and
// keeps the state (so the confirmation) for a whole lifetime from then.
func (st *devicesState) confirm(now time.Time) {
	st.Confirmed, st.Expires = now.Unix(), now.Add(devicesLifetime).Unix()
}

// mayAdd reports whether a device may be added now; if not, it answers
// the page asking to confirm first.
func (w *Web) mayAdd(rw http.ResponseWriter, r *http.Request, sess *portal.Session, st *devicesState) bool {
	if recentlyProved(sess, st) {
		return true
	}
	w.renderDevices(rw, r, sess, st, http.StatusForbidden, confirmFirst, "", false)
	return false
}

// loadDevicesState is the page's state for sess (a fresh one when the
// cookie is missing, stale, or another session's).
func (w *Web) loadDevicesState(r *http.Request, sess *portal.Session) *devicesState {
	var st devicesState
	v := cookieValue(r, devicesCookie)
	if v == "" || w.keys.open(devicesCookie, v, &st) != nil || st.SessionID != sess.ID || time.Now().Unix() >= st.Expires {
		return &devicesState{SessionID: sess.ID, Expires: time.Now().Add(devicesLifetime).Unix()}
	}
	return &st
}

func (w *Web) saveDevicesState(rw http.ResponseWriter, st *devicesState) error {
	v, err := w.keys.seal(devicesCookie, st)
	if err != nil {
		return err
	}
	setCookie(rw, devicesCookie, v, time.Unix(st.Expires, 0), http.SameSiteStrictMode)
	return nil
}

type deviceRow struct {
	ID, Kind, Name, Added, LastUsed string
}

type devicesView struct {
	base
	Devices     []deviceRow
	TOTPFull    bool   // the most authenticator apps allowed
	KeysFull    bool   // the most security keys allowed
	Secret      string // the key of the app being registered
	Register    string // WebAuthn registration options (JSON), when a key can be added
	Verify      string // WebAuthn login options (JSON), when the user has a key
	HasTOTP     bool
	Required    bool // MFA is required: the last device cannot go
	Confirm     bool // adding a device needs the person to prove again who they are
	Notice      string
	CodeInvalid bool
}

// proofFields are the "proof" template's fields, which confirm it is the
// person: removing a device and confirming before adding one both ask.
type proofFields struct {
	ID          string // prefix of the fields' ids, unique on the page
	HasTOTP     bool
	CodeInvalid bool
}

func (v devicesView) Proof(id string) proofFields {
	return proofFields{ID: id, HasTOTP: v.HasTOTP, CodeInvalid: v.CodeInvalid}
}

func (w *Web) devicesPage(rw http.ResponseWriter, r *http.Request) {
	sess, err := w.session(r)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	if sess == nil {
		signInFirst(rw, r)
		return
	}
	notice := ""
	switch r.URL.Query().Get("done") {
	case "added":
		notice = "The device was registered."
	case "removed":
		notice = "The device was removed."
	case "confirmed":
		notice = "Confirmed. You can add devices for the next 10 minutes."
	}
	w.renderDevices(rw, r, sess, w.loadDevicesState(r, sess), http.StatusOK, "", notice, false)
}

// renderDevices shows the page, with new WebAuthn challenges each time
// and the same app key until it is registered.
func (w *Web) renderDevices(rw http.ResponseWriter, r *http.Request, sess *portal.Session, st *devicesState, status int, msg, notice string, codeInvalid bool) {
	ctx := r.Context()
	devices, err := w.signin.MFADevices(ctx, sess.IdentityStoreID, sess.UserID)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	settings, err := w.signin.Settings(ctx)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	v := devicesView{base: w.signedIn(sess, "MFA devices"), Required: settings.MFAMode == signin.MFARequired, Notice: notice, CodeInvalid: codeInvalid,
		Confirm: !recentlyProved(sess, st)}
	v.Error = msg
	apps, keys := 0, 0
	for _, d := range devices {
		row := deviceRow{ID: d.ID, Name: d.Name, Added: d.CreatedAt.UTC().Format("2006-01-02"), LastUsed: "Never"}
		if !d.LastUsedAt.IsZero() {
			row.LastUsed = d.LastUsedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		if d.Type == store.MFATOTP {
			row.Kind, apps = "Authenticator app", apps+1
		} else {
			row.Kind, keys = "Security key", keys+1
		}
		v.Devices = append(v.Devices, row)
	}
	v.HasTOTP = apps > 0
	v.TOTPFull, v.KeysFull = apps >= signin.MaxTOTPDevices, keys >= signin.MaxWebAuthnDevices
	if v.TOTPFull || v.Confirm {
		st.TOTP = nil
	} else if st.TOTP == nil {
		e, err := w.signin.BeginTOTPEnrollment(ctx, sess.IdentityStoreID, sess.UserID, totpIssuer)
		if err != nil && !errors.Is(err, signin.ErrDeviceLimit) {
			w.fail(rw, r, err)
			return
		}
		if e != nil {
			e.QRPNG = nil // drawn by /start/mfa/qr.png
			st.TOTP = e
		}
	}
	if st.TOTP != nil {
		v.Secret = groupSecret(st.TOTP.Secret)
	}
	st.Register, st.Verify = nil, nil
	if w.signin.WebAuthnAvailable() {
		if !v.KeysFull && !v.Confirm {
			opts, state, err := w.signin.BeginWebAuthnRegistration(ctx, sess.IdentityStoreID, sess.UserID)
			if err != nil && !errors.Is(err, signin.ErrDeviceLimit) {
				w.fail(rw, r, err)
				return
			}
			v.Register, st.Register = string(opts), state
		}
		if keys > 0 {
			opts, state, err := w.signin.BeginWebAuthnLogin(ctx, sess.IdentityStoreID, sess.UserID)
			if err != nil && !errors.Is(err, signin.ErrNoDevice) {
				w.fail(rw, r, err)
				return
			}
			v.Verify, st.Verify = string(opts), state
		}
	}
	if err := w.saveDevicesState(rw, st); err != nil {
		w.fail(rw, r, err)
		return
	}
	w.render(rw, status, "devices", v)
}

// devicesQR draws the key of the app being registered as a QR code.
func (w *Web) devicesQR(rw http.ResponseWriter, r *http.Request) {
	sess, err := w.session(r)
	if err != nil || sess == nil {
		http.NotFound(rw, r)
		return
	}
	st := w.loadDevicesState(r, sess)
	if st.TOTP == nil {
		http.NotFound(rw, r)
		return
	}
	key, err := otp.NewKeyFromURL(st.TOTP.URL)
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

// addTOTP registers the app whose key the page showed, once it gives a code.
func (w *Web) addTOTP(rw http.ResponseWriter, r *http.Request) {
	sess := w.postedSession(rw, r)
	if sess == nil {
		return
	}
	st := w.loadDevicesState(r, sess)
	if !w.mayAdd(rw, r, sess, st) {
		return
	}
	if st.TOTP == nil {
		w.renderDevices(rw, r, sess, st, http.StatusBadRequest, "Start again: the page was out of date.", "", false)
		return
	}
	err := w.signin.FinishTOTPEnrollment(r.Context(), sess.IdentityStoreID, sess.UserID, st.TOTP, strings.TrimSpace(r.PostFormValue("code")),
		deviceLabel(r.PostFormValue("name"), totpDeviceName))
	switch {
	case errors.Is(err, signin.ErrBadCode):
		w.renderDevices(rw, r, sess, st, http.StatusUnauthorized, badCode, "", true)
		return
	case errors.Is(err, signin.ErrDeviceLimit):
		st.TOTP = nil
		w.renderDevices(rw, r, sess, st, http.StatusConflict, "You have the most authenticator apps allowed. Remove one first.", "", false)
		return
	case err != nil:
		w.fail(rw, r, err)
		return
	}
	st.TOTP = nil // the next app gets a new key
	if err := w.saveDevicesState(rw, st); err != nil {
		w.fail(rw, r, err)
		return
	}
	redirect(rw, "/start/mfa?done=added")
}

// addWebAuthn registers the security key the page's script created.
func (w *Web) addWebAuthn(rw http.ResponseWriter, r *http.Request) {
	sess := w.postedSession(rw, r)
	if sess == nil {
		return
	}
	st := w.loadDevicesState(r, sess)
	if !w.mayAdd(rw, r, sess, st) {
		return
	}
	err := w.signin.FinishWebAuthnRegistration(r.Context(), sess.IdentityStoreID, sess.UserID, st.Register, credentialRequest(r),
		deviceLabel(r.PostFormValue("name"), webAuthnDeviceName))
	switch {
	case errors.Is(err, signin.ErrDeviceLimit):
		w.renderDevices(rw, r, sess, st, http.StatusConflict, "You have the most security keys allowed. Remove one first.", "", false)
		return
	case errors.Is(err, signin.ErrBadCode), errors.Is(err, signin.ErrWebAuthnUnavailable):
		w.log.Info("web: WebAuthn registration refused", "err", err)
		w.renderDevices(rw, r, sess, st, http.StatusBadRequest, "The security key was not registered. Try again.", "", false)
		return
	case err != nil:
		w.fail(rw, r, err)
		return
	}
	redirect(rw, "/start/mfa?done=added")
}

const (
	badProof     = "That did not confirm it is you. Enter a current authenticator code or your password, or use your security key."
	confirmFirst = "Confirm it is you before adding a device."
)

// confirmIdentity lets the person add devices for reauthWindow once they
// proved again who they are (provedAgain).
func (w *Web) confirmIdentity(rw http.ResponseWriter, r *http.Request) {
	sess := w.postedSession(rw, r)
	if sess == nil {
		return
	}
	st := w.loadDevicesState(r, sess)
	if !w.provedAgain(rw, r, sess, st) {
		return
	}
	st.confirm(time.Now())
	if err := w.saveDevicesState(rw, st); err != nil {
		w.fail(rw, r, err)
		return
	}
	redirect(rw, "/start/mfa?done=confirmed")
}

// provedAgain checks the proof a form carries that the session's person is
// at the keyboard: a security key's assertion, a current code of one of
// their apps, or their password (each counts against the sign-in
// throttle, and is recorded). Without one it answers the page and false.
func (w *Web) provedAgain(rw http.ResponseWriter, r *http.Request, sess *portal.Session, st *devicesState) bool {
	switch err := w.proof(r, sess, st); {
	case errors.Is(err, signin.ErrBadCode), errors.Is(err, signin.ErrBadCredentials), errors.Is(err, signin.ErrThrottled):
		w.renderDevices(rw, r, sess, st, http.StatusUnauthorized, badProof, "", r.PostFormValue("code") != "")
		return false
	case err != nil:
		w.fail(rw, r, err)
		return false
	}
	return true
}

// proof verifies whichever proof the form carries.
func (w *Web) proof(r *http.Request, sess *portal.Session, st *devicesState) error {
	ctx := r.Context()
	opts := []signin.CheckOption{signin.FromSource(sourceIP(r))}
	switch code, password := strings.TrimSpace(r.PostFormValue("code")), r.PostFormValue("password"); {
	case r.PostFormValue("credential") != "":
		return w.signin.FinishWebAuthnLogin(ctx, sess.IdentityStoreID, sess.UserID, st.Verify, credentialRequest(r), opts...)
	case code != "":
		return w.signin.VerifyTOTP(ctx, sess.IdentityStoreID, sess.UserID, code, opts...)
	case password != "":
		a, err := w.signin.CheckPassword(ctx, sess.IdentityStoreID, sess.UserName, password, sourceIP(r))
		if err == nil && a.User.ID != sess.UserID { // renamed meanwhile, and the name now someone else's
			err = signin.ErrBadCredentials
		}
		return err
	}
	return signin.ErrBadCode
}

// removeDevice removes one device once the person proved again who they
// are (provedAgain). Their last device stays while MFA is required.
func (w *Web) removeDevice(rw http.ResponseWriter, r *http.Request) {
	sess := w.postedSession(rw, r)
	if sess == nil {
		return
	}
	ctx := r.Context()
	st := w.loadDevicesState(r, sess)
	device := r.PostFormValue("device")
	if device == "" {
		w.renderDevices(rw, r, sess, st, http.StatusBadRequest, "Choose the device to remove.", "", false)
		return
	}
	if !w.provedAgain(rw, r, sess, st) {
		return
	}
	switch err := w.signin.DeleteOwnMFADevice(ctx, sess.IdentityStoreID, sess.UserID, device); {
	case errors.Is(err, signin.ErrLastDevice):
		w.renderDevices(rw, r, sess, st, http.StatusConflict,
			"Your organization requires MFA: register another device before removing your only one.", "", false)
		return
	case errors.Is(err, signin.ErrNoDevice):
		w.renderDevices(rw, r, sess, st, http.StatusNotFound, "That device is not registered (any more).", "", false)
		return
	case err != nil:
		w.fail(rw, r, err)
		return
	}
	redirect(rw, "/start/mfa?done=removed")
}

// deviceLabel is the name a person gave a device, or def.
func deviceLabel(name, def string) string {
	if name = strings.TrimSpace(name); name == "" {
		return def
	}
	return name
}
