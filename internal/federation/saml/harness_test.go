package saml

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/atrium-sso/atrium/internal/federation"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

const testBase = "https://atrium.example"

// recordingFederation is the real federation service, noting each
// identity this package hands it.
type recordingFederation struct {
	*federation.Service
	mu   sync.Mutex
	done []completed
}

type completed struct {
	Source string
	ID     federation.Identity
	Next   string
}

func (f *recordingFederation) Complete(rw http.ResponseWriter, r *http.Request, src *federation.Source, id federation.Identity, next string) {
	f.mu.Lock()
	f.done = append(f.done, completed{Source: src.Name, ID: id, Next: next})
	f.mu.Unlock()
	f.Service.Complete(rw, r, src, id, next)
}

func (f *recordingFederation) completions() []completed {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]completed(nil), f.done...)
}

// recordingPages stands in for the sign-in pages (package web): who was
// signed in, and every refusal.
type recordingPages struct {
	mu     sync.Mutex
	signed []string // user names
	tags   []map[string]string
}

func (p *recordingPages) SignInFederated(rw http.ResponseWriter, r *http.Request, user *store.User, method string, atriumMFA bool,
	assertedTags map[string]string, next string) {
	p.mu.Lock()
	p.signed = append(p.signed, user.UserName)
	p.tags = append(p.tags, assertedTags)
	p.mu.Unlock()
	http.Redirect(rw, r, next, http.StatusFound)
}

func (p *recordingPages) RefuseSignIn(rw http.ResponseWriter, status int, message string) {
	rw.WriteHeader(status)
	fmt.Fprint(rw, message)
}

func (p *recordingPages) signedIn() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.signed...)
}

// harness is Atrium's SAML protocol with the real federation service (one
// or more nodes on one store) and a crewjam IdentityProvider that trusts it.
type harness struct {
	t     testing.TB
	db    store.Store
	svc   *federation.Service
	fed   *recordingFederation
	pages *recordingPages
	sp    *Protocol
	mux   *http.ServeMux
	idp   *saml.IdentityProvider
	src   *federation.Source
	plain bool // the IdP sees no SP encryption key, so assertions are not encrypted
	log   *logBuffer
}

// logBuffer keeps what the protocol logs: the real reasons of refusals.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func openStore(t testing.TB) store.Store {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "atrium.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	return db
}

// testIdPKey is one RSA key for every test IdP (generating one per test is slow).
var testIdPKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

var otherIdPKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func selfSigned(t testing.TB, key *rsa.PrivateKey, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newIdP(t testing.TB, key *rsa.PrivateKey, sps saml.ServiceProviderProvider) *saml.IdentityProvider {
	mustURL := func(s string) url.URL { u, _ := url.Parse(s); return *u }
	return &saml.IdentityProvider{
		Key:                     key,
		Certificate:             selfSigned(t, key, "test idp"),
		MetadataURL:             mustURL("https://idp.example/metadata"),
		SSOURL:                  mustURL("https://idp.example/sso"),
		ServiceProviderProvider: sps,
		SignatureMethod:         "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
		NameIDFormats:           []saml.NameIDFormat{saml.EmailAddressNameIDFormat},
	}
}

// GetServiceProvider gives the IdP Atrium's SP metadata, as served.
func (h *harness) GetServiceProvider(r *http.Request, id string) (*saml.EntityDescriptor, error) {
	rec := h.serve(httptest.NewRequest("GET", "/saml/"+h.src.Name+"/metadata", nil))
	if rec.Code != 200 {
		return nil, fmt.Errorf("SP metadata: %d %s", rec.Code, rec.Body)
	}
	var ed saml.EntityDescriptor
	if err := xml.Unmarshal(rec.Body.Bytes(), &ed); err != nil {
		return nil, err
	}
	if ed.EntityID != id {
		return nil, os.ErrNotExist
	}
	if h.plain {
		for i := range ed.SPSSODescriptors {
			var kept []saml.KeyDescriptor
			for _, kd := range ed.SPSSODescriptors[i].KeyDescriptors {
				if kd.Use == "signing" {
					kept = append(kept, kd)
				}
			}
			ed.SPSSODescriptors[i].KeyDescriptors = kept
		}
	}
	return &ed, nil
}

func idpMetadataXML(t testing.TB, idp *saml.IdentityProvider) string {
	t.Helper()
	b, err := xml.Marshal(idp.Metadata())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The people of the test IdP, users of the source "corp".
var testUsers = []string{"alice@example.com", "mallory@example.com", "alice@example.com.evil.example"}

const testStoreID = "d-0123456789"

// newHarness has a SAML source "corp" whose IdP signs with testIdPKey;
// assertions are in the clear unless encrypted is set.
func newHarness(t testing.TB, encrypted bool, settings map[string]any) *harness {
	t.Helper()
	return newHarnessOn(t, openStore(t), encrypted, settings)
}

// newHarnessOn is one node on db; the first on a store adds the instance,
// the source and its users.
func newHarnessOn(t testing.TB, db store.Store, encrypted bool, settings map[string]any) *harness {
	t.Helper()
	ctx := context.Background()
	h := &harness{t: t, db: db, plain: !encrypted, pages: &recordingPages{}, log: &logBuffer{}}
	h.svc = federation.New(federation.Options{Store: db, BaseURL: testBase, Logger: slog.New(slog.DiscardHandler)})
	h.svc.SetPages(h.pages)
	h.fed = &recordingFederation{Service: h.svc}
	sp, err := New(ctx, h.fed, Options{Log: slog.New(slog.NewTextHandler(h.log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h.sp = sp
	h.mux = http.NewServeMux()
	h.svc.AddProtocol(sp, h.mux)
	h.idp = newIdP(t, testIdPKey(), h)

	var instances []store.Instance
	if err := db.Read(ctx, func(tx store.Tx) error { instances, err = tx.ListInstances(ctx); return err }); err != nil {
		t.Fatal(err)
	}
	if len(instances) > 0 {
		if h.src, err = h.svc.GetSource(ctx, "corp"); err != nil {
			t.Fatal(err)
		}
		return h
	}
	err = db.Write(ctx, func(tx store.Tx) error {
		return tx.InsertInstance(ctx, store.Instance{ARN: "arn:aws:sso:::instance/ssoins-0123456789abcdef", IdentityStoreID: testStoreID,
			OwnerAccountID: "111111111111", Name: "atrium", Status: "ACTIVE", CreatedAt: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	h.src = h.addSource("corp", settings)
	for _, u := range testUsers {
		h.addUser(u, h.src.ID)
	}
	return h
}

// addSource creates a SAML source for the test IdP through the federation
// service, which has the protocol check its settings.
func (h *harness) addSource(name string, settings map[string]any) *federation.Source {
	h.t.Helper()
	doc := map[string]any{"MetadataXML": idpMetadataXML(h.t, h.idp)}
	for k, v := range settings {
		doc[k] = v
	}
	raw, _ := json.Marshal(doc)
	src, err := h.svc.CreateSource(context.Background(), federation.SourceInput{Name: name, Kind: federation.KindSAML, Config: raw})
	if err != nil {
		h.t.Fatalf("CreateSource: %v", err)
	}
	return src
}

func (h *harness) addUser(userName, sourceID string) {
	h.t.Helper()
	ctx := context.Background()
	u := store.User{IdentityStoreID: testStoreID, ID: ids.UserID(testStoreID), UserName: userName, DisplayName: userName,
		Status: store.UserEnabled, SourceID: sourceID, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := h.db.Write(ctx, func(tx store.Tx) error { return tx.InsertUser(ctx, u) }); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) serve(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.mux.ServeHTTP(rec, r)
	return rec
}

// login is an SP-initiated sign-in in progress: what the browser carries to
// the IdP and back.
type login struct {
	redirect *url.URL
	cookies  []*http.Cookie
	req      *saml.IdpAuthnRequest
}

// start opens /saml/corp/start and lets the IdP read the AuthnRequest.
func (h *harness) start(next string) *login {
	h.t.Helper()
	rec := h.serve(httptest.NewRequest("GET", "/saml/corp/start?next="+url.QueryEscape(next), nil))
	if rec.Code != http.StatusFound {
		h.t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil {
		h.t.Fatal(err)
	}
	l := &login{redirect: loc, cookies: rec.Result().Cookies()}
	req, err := saml.NewIdpAuthnRequest(h.idp, httptest.NewRequest("GET", loc.String(), nil))
	if err != nil {
		h.t.Fatal(err)
	}
	if err := req.Validate(); err != nil {
		h.t.Fatalf("the IdP refused our AuthnRequest: %v", err)
	}
	l.req = req
	return l
}

// idpInitiated is a sign-in the IdP starts, with no request of ours.
func (h *harness) idpInitiated(relayState string) *saml.IdpAuthnRequest {
	h.t.Helper()
	req, err := h.idp.NewIdpInitiatedRequest(httptest.NewRequest("GET", "https://idp.example/start", nil), testBase+"/saml/corp/metadata", relayState)
	if err != nil {
		h.t.Fatal(err)
	}
	return req
}

func session(email string) *saml.Session {
	return &saml.Session{ID: "s1", CreateTime: time.Now(), ExpireTime: time.Now().Add(time.Hour), Index: "1",
		NameID: email, NameIDFormat: string(saml.EmailAddressNameIDFormat), UserEmail: email, UserGivenName: "Alice",
		UserSurname: "Liddell", UserCommonName: "Alice Liddell", Groups: []string{"engineers", "admins"}}
}

// respond has the IdP answer req for email (after mutate changes the
// assertion before it is signed) and returns the Response XML.
func (h *harness) respond(req *saml.IdpAuthnRequest, email string, mutate func(*saml.Assertion)) []byte {
	h.t.Helper()
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session(email)); err != nil {
		h.t.Fatal(err)
	}
	if mutate != nil {
		mutate(req.Assertion)
	}
	if err := req.MakeResponse(); err != nil {
		h.t.Fatal(err)
	}
	return docBytes(h.t, req.ResponseEl)
}

func docBytes(t testing.TB, el *etree.Element) []byte {
	t.Helper()
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post is the browser's POST of the IdP's form to the ACS.
func (h *harness) post(xmlResponse []byte, relay string, cookies []*http.Cookie) *httptest.ResponseRecorder {
	h.t.Helper()
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(xmlResponse)}}
	if relay != "" {
		form.Set("RelayState", relay)
	}
	r := httptest.NewRequest("POST", "/saml/corp/acs", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", "https://idp.example")
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return h.serve(r)
}

// finish posts the IdP's answer to a login started with start.
func (h *harness) finish(l *login, xmlResponse []byte) *httptest.ResponseRecorder {
	return h.post(xmlResponse, l.redirect.Query().Get("RelayState"), l.cookies)
}

// refused checks the ACS answered with federation's error page, with the
// one safe message, and signed nobody in.
func (h *harness) refused(rec *httptest.ResponseRecorder) {
	h.t.Helper()
	if rec.Code != http.StatusForbidden && rec.Code != http.StatusBadRequest {
		h.t.Fatalf("ACS answered %d %q, want a refusal", rec.Code, rec.Body)
	}
	if done := h.fed.completions(); len(done) != 0 {
		h.t.Fatalf("handed to federation: %+v", done)
	}
	if signed := h.pages.signedIn(); len(signed) != 0 {
		h.t.Fatalf("signed in %v", signed)
	}
	if body := rec.Body.String(); body != msgRefused {
		h.t.Fatalf("refusal said %q", body)
	}
}

// refusedBecause is refused, for the reason the log names (so an attack
// test cannot pass for another reason).
func (h *harness) refusedBecause(rec *httptest.ResponseRecorder, reason string) {
	h.t.Helper()
	h.refused(rec)
	if !strings.Contains(h.log.String(), reason) {
		h.t.Fatalf("refused, but not because of %q:\n%s", reason, h.log)
	}
}

// signedIn checks the ACS handed one identity to federation, which signed
// in the user it names.
func (h *harness) signedIn(rec *httptest.ResponseRecorder) completed {
	h.t.Helper()
	done, signed := h.fed.completions(), h.pages.signedIn()
	if rec.Code != http.StatusFound || len(done) != 1 || len(signed) != 1 || signed[0] != done[0].ID.Email {
		h.t.Fatalf("ACS answered %d %q; completions %+v; signed in %v", rec.Code, rec.Body, done, signed)
	}
	return done[0]
}

// again forgets what was recorded, for a second try.
func (h *harness) again() {
	h.fed.mu.Lock()
	h.fed.done = nil
	h.fed.mu.Unlock()
	h.pages.mu.Lock()
	h.pages.signed = nil
	h.pages.mu.Unlock()
}

// The response as XML, for tampering.
func parseDoc(t testing.TB, b []byte) *etree.Document {
	t.Helper()
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil {
		t.Fatal(err)
	}
	return doc
}

func writeDoc(t testing.TB, doc *etree.Document) []byte {
	t.Helper()
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type etreeElement = etree.Element
