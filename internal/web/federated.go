package web

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"slices"

	"github.com/atrium-sso/atrium/internal/federation"
	"github.com/atrium-sso/atrium/internal/signin"
	"github.com/atrium-sso/atrium/internal/store"
)

// Federation is what the sign-in page needs of package federation: the
// identity providers to offer, and where a user name's domain leads.
type Federation interface {
	SignInOptions(ctx context.Context, next string) ([]federation.SignInOption, error)
	RouteUserName(ctx context.Context, userName, next string) (path string, ok bool, err error)
}

// SetFederation connects the identity sources (built after the pages).
func (w *Web) SetFederation(f Federation) { w.fed = f }

type usernameView struct {
	base
	IdPs []federation.SignInOption
}

// usernameView is the first sign-in page: the user name field, and a
// button per identity provider.
func (w *Web) usernameView(r *http.Request, f *flow, msg string) usernameView {
	v := usernameView{base: base{Title: "Sign in", CSRF: w.keys.formToken(f.ID), Error: msg}}
	if w.fed != nil {
		opts, err := w.fed.SignInOptions(r.Context(), f.Next)
		if err != nil {
			w.log.Error("web: identity providers for the sign-in page", "err", err)
		}
		v.IdPs = opts
	}
	return v
}

// routeToIdP sends a user name whose email domain belongs to an identity
// provider there; it reports whether it did. A page of ours leads on
// rather than a redirect: the IdP is another origin, and browsers hold a
// form's redirects to the page's form-action 'self'.
func (w *Web) routeToIdP(rw http.ResponseWriter, r *http.Request, f *flow, userName string) bool {
	if w.fed == nil {
		return false
	}
	path, ok, err := w.fed.RouteUserName(r.Context(), userName, f.Next)
	if err != nil {
		w.log.Error("web: routing a user name to its identity provider", "err", err)
		return false
	}
	if ok {
		clearCookie(rw, flowCookie)
		w.render(rw, http.StatusOK, "continue", messageView{base: base{Title: "Signing in"},
			Message: "Your organization signs you in with its identity provider.", Link: path, LinkText: "Continue"})
	}
	return ok
}

// SignInFederated carries on the sign-in of a user an identity provider
// vouched for (method names its protocol): with Atrium's own MFA when
// atriumMFA and the instance's policy asks, as after a password; then the
// session and next.
func (w *Web) SignInFederated(rw http.ResponseWriter, r *http.Request, user *store.User, method string, atriumMFA bool,
	assertedTags map[string]string, next string) {
	opts := []signin.CheckOption{signin.FromSource(sourceIP(r))}
	if device := cookieValue(r, deviceCookie); device != "" {
		opts = append(opts, signin.FromDevice(device))
	}
	a, err := w.signin.AfterIdentityProvider(r.Context(), w.storeID, user.ID, atriumMFA, opts...)
	if errors.Is(err, signin.ErrBadCredentials) {
		w.userGone(rw)
		return
	}
	if err != nil {
		w.fail(rw, r, err)
		return
	}
	f := newFlow(next)
	f.UserName, f.UserID, f.Methods = user.UserName, user.ID, []string{method}
	f.Tags = fitTags(assertedTags)
	f.MFA, f.HasTOTP, f.HasWebAuthn = a.MFA, a.HasTOTP, a.HasWebAuthn
	switch a.MFA {
	case signin.MFANone:
		w.finish(rw, r, f)
		return
	case signin.MFAEnroll:
		f.Step = stepEnroll
	default:
		f.Step = stepMFA
	}
	if err := w.saveFlow(rw, f); err != nil {
		w.fail(rw, r, err)
		return
	}
	// The IdP's response reached us cross-site, and browsers keep the
	// strict flow cookie from the redirects that follow such a request:
	// the MFA page is reached from a page of ours instead.
	w.render(rw, http.StatusOK, "continue", messageView{base: base{Title: "Signing in"},
		Message: "Your identity provider signed you in. Atrium asks for your MFA device next.", Link: f.Step.path(), LinkText: "Continue"})
}

// maxTagBytes bounds the asserted session tags a sign-in carries in its
// cookie (which browsers cap near 4 KB): past it, tags are left out, in key
// order, rather than the sign-in failing.
const maxTagBytes = 1500

func fitTags(tags map[string]string) map[string]string {
	if len(tags) == 0 {
		return nil
	}
	out, size := map[string]string{}, 0
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		if size += len(k) + len(tags[k]) + 6; size > maxTagBytes {
			break
		}
		out[k] = tags[k]
	}
	return out
}

// RefuseSignIn shows why a federated sign-in cannot go on.
func (w *Web) RefuseSignIn(rw http.ResponseWriter, status int, message string) {
	w.render(rw, status, "message", messageView{base: base{Title: "Sign-in failed"}, Message: message, Link: "/signin", LinkText: "Sign in"})
}
