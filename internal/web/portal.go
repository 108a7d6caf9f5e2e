package web

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/portal"
)

// session is the live session of the browser's cookie, or nil.
func (w *Web) session(r *http.Request) (*portal.Session, error) {
	token := cookieValue(r, sessionCookie)
	if token == "" {
		return nil, nil
	}
	sess, err := w.portal.SessionByToken(r.Context(), token)
	if errors.Is(err, portal.ErrNoSession) {
		return nil, nil
	}
	return sess, err
}

// postedSession is the session a form was posted in, when the form's token
// is the session's; otherwise the request is refused.
func (w *Web) postedSession(rw http.ResponseWriter, r *http.Request) *portal.Session {
	sess, err := w.session(r)
	if err != nil {
		w.fail(rw, r, err)
		return nil
	}
	if sess == nil {
		clearCookie(rw, sessionCookie)
		w.render(rw, http.StatusForbidden, "message", messageView{base: base{Title: "Signed out"},
			Message: "You are not signed in (your session ended or was ended). Sign in again.", Link: "/signin", LinkText: "Sign in"})
		return nil
	}
	if !w.keys.checkFormToken(sess.ID, r.PostFormValue("csrf")) {
		w.forged(rw)
		return nil
	}
	return sess
}

type portalView struct {
	base
	Accounts []portal.AccountAccess
}

// start is the access portal: the accounts the person may enter and, under
// each, the permission sets they may use there.
func (w *Web) start(rw http.ResponseWriter, r *http.Request) {
	sess, err := w.session(r)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	if sess == nil {
		signInFirst(rw, r)
		return
	}
	accounts, err := w.portal.Entitlements(r.Context(), sess)
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	accounts = slices.Clone(accounts)
	slices.SortStableFunc(accounts, func(a, b portal.AccountAccess) int {
		if c := strings.Compare(strings.ToLower(a.AccountName), strings.ToLower(b.AccountName)); c != 0 {
			return c
		}
		return strings.Compare(a.AccountID, b.AccountID)
	})
	w.render(rw, http.StatusOK, "portal", portalView{base: w.signedIn(sess, "AWS access portal"), Accounts: accounts})
}

func (w *Web) signedIn(sess *portal.Session, title string) base {
	return base{Title: title, CSRF: w.keys.formToken(sess.ID), UserName: sess.UserName}
}

type credentialsView struct {
	base
	AccountID, AccountName, RoleName string
	Exports, File                    string
	Expires                          string
}

// credentials mints command-line credentials for one role. It is a POST:
// each call issues new credentials (a stored, audited session credential),
// which no GET should do, and the secret never lands in a URL, a history
// entry or a proxy log. The page is not stored (no-store, as every page).
func (w *Web) credentials(rw http.ResponseWriter, r *http.Request) {
	sess := w.postedSession(rw, r)
	if sess == nil {
		return
	}
	account, role := r.PostFormValue("account_id"), r.PostFormValue("role_name")
	c, err := w.portal.RoleCredentials(r.Context(), sess, account, role)
	if errors.Is(err, portal.ErrNoAccess) {
		w.render(rw, http.StatusForbidden, "message", messageView{base: w.signedIn(sess, "No access"),
			Message: "You do not have permission set " + role + " in account " + account + ".", Link: "/start", LinkText: "Back to your accounts"})
		return
	}
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	name := account
	if accounts, err := w.portal.Entitlements(r.Context(), sess); err == nil {
		for _, a := range accounts {
			if a.AccountID == account {
				name = a.AccountName
			}
		}
	}
	w.render(rw, http.StatusOK, "credentials", credentialsView{base: w.signedIn(sess, "Command line credentials"),
		AccountID: account, AccountName: name, RoleName: role,
		Exports: "export AWS_ACCESS_KEY_ID=\"" + c.AccessKeyID + "\"\n" +
			"export AWS_SECRET_ACCESS_KEY=\"" + c.SecretAccessKey + "\"\n" +
			"export AWS_SESSION_TOKEN=\"" + c.SessionToken + "\"\n",
		File: "[" + account + "_" + role + "]\n" +
			"aws_access_key_id = " + c.AccessKeyID + "\n" +
			"aws_secret_access_key = " + c.SecretAccessKey + "\n" +
			"aws_session_token = " + c.SessionToken + "\n",
		Expires: c.Expiration.UTC().Format(time.RFC3339)})
}

// signOut ends the session and everything issued from it.
func (w *Web) signOut(rw http.ResponseWriter, r *http.Request) {
	sess := w.postedSession(rw, r)
	if sess == nil {
		return
	}
	if err := w.portal.EndSession(r.Context(), sess.ID); err != nil {
		w.fail(rw, r, err)
		return
	}
	clearCookie(rw, sessionCookie)
	w.render(rw, http.StatusOK, "message", messageView{base: base{Title: "Signed out"},
		Message: "You have signed out. Credentials and command-line sessions from this sign-in no longer work.", Link: "/signin", LinkText: "Sign in again"})
}
