package saml

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/atrium-sso/atrium/internal/federation"
	"github.com/atrium-sso/atrium/internal/store/postgres"
	"github.com/atrium-sso/atrium/internal/testenv"
)

// SP-initiated, with an encrypted assertion as AWS's SP metadata invites:
// the person comes back to where they were going, as the IdP says they are.
func TestSPInitiatedSignIn(t *testing.T) {
	h := newHarness(t, true, nil)
	l := h.start("/start/accounts?x=1")
	if got := l.redirect.Scheme + "://" + l.redirect.Host + l.redirect.Path; got != "https://idp.example/sso" {
		t.Fatalf("sent to %s", got)
	}
	if l.redirect.Query().Get("Signature") == "" || l.req.Request.AssertionConsumerServiceURL != testBase+"/saml/corp/acs" ||
		l.req.Request.Issuer.Value != testBase+"/saml/corp/metadata" {
		t.Fatalf("AuthnRequest %+v, query %v", l.req.Request, l.redirect.Query())
	}
	if len(l.cookies) != 1 || !l.cookies[0].Secure || !l.cookies[0].HttpOnly || l.cookies[0].SameSite != http.SameSiteNoneMode ||
		!strings.HasPrefix(l.cookies[0].Name, "__Host-") {
		t.Fatalf("request cookie %+v", l.cookies)
	}
	resp := h.respond(l.req, "alice@example.com", nil)
	if !bytes.Contains(resp, []byte("EncryptedAssertion")) {
		t.Fatal("the IdP did not encrypt the assertion to the SP's key")
	}
	rec := h.finish(l, resp)
	got := h.signedIn(rec)
	if got.Next != "/start/accounts?x=1" || got.ID.Subject != "alice@example.com" || got.ID.Email != "alice@example.com" ||
		got.ID.GivenName != "Alice" || got.ID.FamilyName != "Liddell" || got.ID.DisplayName != "Alice Liddell" {
		t.Fatalf("completed %+v", got)
	}
	if groups := got.ID.Attributes["urn:oid:1.3.6.1.4.1.5923.1.1.1.1"]; !slices.Equal(groups, []string{"engineers", "admins"}) {
		t.Fatalf("attributes %v", got.ID.Attributes)
	}
	// The request cookie is spent.
	if c := rec.Result().Cookies(); len(c) != 1 || c[0].MaxAge >= 0 {
		t.Fatalf("ACS cookies %+v", c)
	}
}

func TestAttributeMappingNamesTheEmail(t *testing.T) {
	h := newHarness(t, false, map[string]any{"AttributeMapping": map[string]string{"email": "urn:oid:1.3.6.1.4.1.5923.1.1.1.6", "givenName": "urn:oid:2.5.4.3"}})
	req := h.idpInitiated("")
	resp := h.respond(req, "a.liddell@example.com", func(a *saml.Assertion) {
		a.Subject.NameID.Format = string(saml.PersistentNameIDFormat)
		a.Subject.NameID.Value = "00u1abcd"
		for i, at := range a.AttributeStatements[0].Attributes {
			if at.Name == "urn:oid:1.3.6.1.4.1.5923.1.1.1.6" {
				a.AttributeStatements[0].Attributes[i].Values[0].Value = "alice@example.com"
			}
		}
	})
	got := h.signedIn(h.post(resp, "", nil))
	if got.ID.Subject != "00u1abcd" || got.ID.Email != "alice@example.com" || got.ID.GivenName != "Alice Liddell" {
		t.Fatalf("completed %+v", got.ID)
	}
}

// Attributes reach federation as sent: the AWS access-control ones become
// the session's asserted tags (ABAC).
func TestAccessControlAttributesBecomeSessionTags(t *testing.T) {
	h := newHarness(t, false, nil)
	resp := h.respond(h.idpInitiated(""), "alice@example.com", func(a *saml.Assertion) {
		a.AttributeStatements[0].Attributes = append(a.AttributeStatements[0].Attributes, saml.Attribute{
			Name:   "https://aws.amazon.com/SAML/Attributes/AccessControl:CostCenter",
			Values: []saml.AttributeValue{{Type: "xs:string", Value: "1234"}},
		})
	})
	h.signedIn(h.post(resp, "", nil))
	if tags := h.pages.tags[0]; tags["CostCenter"] != "1234" {
		t.Fatalf("asserted tags %v", tags)
	}
}

// A sign-in started at the IdP's portal goes to the portal; a RelayState
// it carries is not a place to send anyone.
func TestIdPInitiatedSignIn(t *testing.T) {
	h := newHarness(t, false, nil)
	req := h.idpInitiated("https://evil.example/phish")
	resp := h.respond(req, "alice@example.com", nil)
	got := h.signedIn(h.post(resp, "https://evil.example/phish", nil))
	if got.Next != "/start" || got.ID.Email != "alice@example.com" {
		t.Fatalf("completed %+v", got)
	}
}

func TestIdPInitiatedSignInCanBeTurnedOff(t *testing.T) {
	h := newHarness(t, false, map[string]any{"AllowIdPInitiated": false})
	h.refused(h.post(h.respond(h.idpInitiated(""), "alice@example.com", nil), "", nil))
	// SP-initiated still works.
	l := h.start("/start")
	h.signedIn(h.finish(l, h.respond(l.req, "alice@example.com", nil)))
}

// Signature wrapping (XSW): a signed assertion for mallory, and beside or
// around it an unsigned copy naming alice. The library must read what the
// signature covers, or refuse.
func TestSignatureWrappingIsRejected(t *testing.T) {
	wraps := map[string]func(resp, signed, evil *etreeElement){
		"evil assertion before the signed one": func(resp, signed, evil *etreeElement) {
			resp.InsertChildAt(signed.Index(), evil)
		},
		"evil assertion after the signed one": func(resp, signed, evil *etreeElement) {
			resp.AddChild(evil)
		},
		"signed assertion inside the evil one": func(resp, signed, evil *etreeElement) {
			resp.RemoveChild(signed)
			evil.AddChild(signed)
			resp.AddChild(evil)
		},
		"signed assertion inside the evil one's Subject": func(resp, signed, evil *etreeElement) {
			resp.RemoveChild(signed)
			evil.FindElement("./Subject").AddChild(signed)
			resp.AddChild(evil)
		},
		"evil assertion with the signed one's ID": func(resp, signed, evil *etreeElement) {
			evil.CreateAttr("ID", signed.SelectAttrValue("ID", ""))
			resp.InsertChildAt(signed.Index(), evil)
		},
		"signed assertion moved into an Extensions element": func(resp, signed, evil *etreeElement) {
			resp.RemoveChild(signed)
			ext := resp.CreateElement("samlp:Extensions")
			ext.AddChild(signed)
			resp.AddChild(evil)
		},
	}
	for name, wrap := range wraps {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, false, nil)
			l := h.start("/start")
			doc := parseDoc(t, h.respond(l.req, "mallory@example.com", nil))
			resp := doc.Root()
			// The Response signature would not survive any change: an
			// attacker drops it and relies on the assertion's.
			resp.RemoveChild(resp.FindElement("./Signature"))
			signed := resp.FindElement("./Assertion")
			evil := signed.Copy()
			evil.RemoveChild(evil.FindElement("./Signature"))
			evil.CreateAttr("ID", "id-evil")
			evil.FindElement("./Subject/NameID").SetText("alice@example.com")
			wrap(resp, signed, evil)
			h.refused(h.finish(l, writeDoc(t, doc)))
		})
	}
}

// A Response signed by the IdP cannot carry an assertion added after the
// signing, and a signed Response's content cannot be edited.
func TestUnsignedAssertionInSignedResponseIsRejected(t *testing.T) {
	t.Run("assertion added to a signed response", func(t *testing.T) {
		h := newHarness(t, false, nil)
		l := h.start("/start")
		doc := parseDoc(t, h.respond(l.req, "mallory@example.com", nil))
		resp := doc.Root()
		signed := resp.FindElement("./Assertion")
		evil := signed.Copy()
		evil.RemoveChild(evil.FindElement("./Signature"))
		evil.CreateAttr("ID", "id-evil")
		evil.FindElement("./Subject/NameID").SetText("alice@example.com")
		resp.InsertChildAt(signed.Index(), evil)
		h.refused(h.finish(l, writeDoc(t, doc)))
	})
	t.Run("signed assertion replaced by an unsigned one", func(t *testing.T) {
		h := newHarness(t, false, nil)
		l := h.start("/start")
		doc := parseDoc(t, h.respond(l.req, "mallory@example.com", nil))
		resp := doc.Root()
		a := resp.FindElement("./Assertion")
		a.RemoveChild(a.FindElement("./Signature"))
		a.FindElement("./Subject/NameID").SetText("alice@example.com")
		h.refused(h.finish(l, writeDoc(t, doc)))
	})
	t.Run("neither response nor assertion signed", func(t *testing.T) {
		h := newHarness(t, false, nil)
		l := h.start("/start")
		doc := parseDoc(t, h.respond(l.req, "alice@example.com", nil))
		resp := doc.Root()
		resp.RemoveChild(resp.FindElement("./Signature"))
		a := resp.FindElement("./Assertion")
		a.RemoveChild(a.FindElement("./Signature"))
		h.refused(h.finish(l, writeDoc(t, doc)))
	})
}

// Comment truncation (CVE-2017-11427 and kin): mallory registers
// alice@example.com.evil.example at the IdP, then splits the signed NameID
// with a comment, which canonicalisation drops from the signature. A
// reader of the first text node would see alice@example.com.
// (The response is signed, so refusing it is not needed: reading all of it is.)
func TestCommentTruncationInNameIDSignsInOnlyWhoWasSigned(t *testing.T) {
	h := newHarness(t, false, nil)
	l := h.start("/start")
	resp := h.respond(l.req, "alice@example.com.evil.example", nil)
	tampered := bytes.Replace(resp, []byte(">alice@example.com.evil.example<"), []byte(">alice@example.com<!---->.evil.example<"), 1)
	if bytes.Equal(tampered, resp) {
		t.Fatal("NameID not found in the response")
	}
	// The signature covers the whole text, and so does what is read: the
	// person is who the IdP signed for, never alice.
	got := h.signedIn(h.finish(l, tampered))
	if got.ID.Subject != "alice@example.com.evil.example" || got.ID.Email != "alice@example.com.evil.example" {
		t.Fatalf("comment truncation signed in as %+v", got.ID)
	}

	t.Run("in a mapped email attribute", func(t *testing.T) {
		h := newHarness(t, false, map[string]any{"AttributeMapping": map[string]string{"email": "urn:oid:0.9.2342.19200300.100.1.3"}})
		l := h.start("/start")
		resp := h.respond(l.req, "alice@example.com.evil.example", nil)
		tampered := bytes.ReplaceAll(resp, []byte(">alice@example.com.evil.example<"), []byte(">alice@example.com<!---->.evil.example<"))
		got := h.signedIn(h.finish(l, tampered))
		if got.ID.Email != "alice@example.com.evil.example" {
			t.Fatalf("comment truncation signed in as %+v", got.ID)
		}
	})
}

func TestWrongAudienceIsRejected(t *testing.T) {
	h := newHarness(t, false, nil)
	l := h.start("/start")
	resp := h.respond(l.req, "alice@example.com", func(a *saml.Assertion) {
		a.Conditions.AudienceRestrictions = []saml.AudienceRestriction{{Audience: saml.Audience{Value: "https://other-sp.example/metadata"}}}
	})
	h.refusedBecause(h.finish(l, resp), "AudienceRestriction does not contain")
}

func TestExpiredAssertionIsRejected(t *testing.T) {
	h := newHarness(t, false, nil)
	resp := h.respond(h.idpInitiated(""), "alice@example.com", nil)
	// Someone sat on the IdP's answer for an hour.
	h.sp.now = func() time.Time { return time.Now().Add(time.Hour) }
	h.refusedBecause(h.post(resp, "", nil), "expired")

	t.Run("NotOnOrAfter in the past", func(t *testing.T) {
		h := newHarness(t, false, nil)
		l := h.start("/start")
		resp := h.respond(l.req, "alice@example.com", func(a *saml.Assertion) {
			past := time.Now().Add(-10 * time.Minute)
			a.Conditions.NotOnOrAfter = past
			a.Subject.SubjectConfirmations[0].SubjectConfirmationData.NotOnOrAfter = past
		})
		h.refusedBecause(h.finish(l, resp), "expired")
	})
	t.Run("NotBefore in the future", func(t *testing.T) {
		h := newHarness(t, false, nil)
		l := h.start("/start")
		resp := h.respond(l.req, "alice@example.com", func(a *saml.Assertion) {
			a.Conditions.NotBefore = time.Now().Add(10 * time.Minute)
		})
		h.refusedBecause(h.finish(l, resp), "not yet valid")
	})
}

// A response accepted once is refused the second time, by any node.
func TestReplayedAssertionIsRejected(t *testing.T) {
	h := newHarness(t, false, nil)
	resp := h.respond(h.idpInitiated(""), "alice@example.com", nil)
	h.signedIn(h.post(resp, "", nil))
	h.again()
	h.refusedBecause(h.post(resp, "", nil), "already been used")

	t.Run("on another node", func(t *testing.T) {
		db := openStore(t)
		a := newHarnessOn(t, db, false, nil)
		b := newHarnessOn(t, db, false, nil)
		resp := a.respond(a.idpInitiated(""), "alice@example.com", nil)
		a.signedIn(a.post(resp, "", nil))
		b.refusedBecause(b.post(resp, "", nil), "already been used")
	})
	t.Run("on two nodes on PostgreSQL, at once", func(t *testing.T) {
		ctx := context.Background()
		db, err := postgres.Open(ctx, testenv.PostgresDatabase(t))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if err := db.Migrate(ctx, nil); err != nil {
			t.Fatal(err)
		}
		a := newHarnessOn(t, db, false, nil)
		b := newHarnessOn(t, db, false, nil)
		resp := a.respond(a.idpInitiated(""), "alice@example.com", nil)
		codes := make(chan int, 2)
		for _, h := range []*harness{a, b} {
			go func() { codes <- h.post(resp, "", nil).Code }()
		}
		if got := []int{<-codes, <-codes}; !slices.Contains(got, http.StatusFound) || !slices.Contains(got, http.StatusForbidden) {
			t.Fatalf("the same response on two nodes answered %v, want one sign-in and one refusal", got)
		}
		if n := len(a.pages.signedIn()) + len(b.pages.signedIn()); n != 1 {
			t.Fatalf("%d sign-ins", n)
		}
	})
	t.Run("SP-initiated, with the request cookie kept", func(t *testing.T) {
		h := newHarness(t, false, nil)
		l := h.start("/start")
		resp := h.respond(l.req, "alice@example.com", nil)
		h.signedIn(h.finish(l, resp))
		h.again()
		h.refusedBecause(h.finish(l, resp), "already been used")
	})
}

// A tiny HTTP-Redirect binding message that inflates to gigabytes is
// refused after reading at most the cap.
func TestDeflateBombIsRejected(t *testing.T) {
	var compressed bytes.Buffer
	fw, _ := flate.NewWriter(&compressed, flate.BestCompression)
	chunk := bytes.Repeat([]byte("<a>"), 1<<16)
	for i := 0; i < (1<<30)/len(chunk); i++ { // 1 GiB of XML-ish text
		fw.Write(chunk)
	}
	fw.Close()
	if compressed.Len() > 2<<20 {
		t.Fatalf("bomb is %d bytes", compressed.Len())
	}
	value := base64.StdEncoding.EncodeToString(compressed.Bytes())

	if _, err := decodeResponse(value, true); err != errTooLarge {
		t.Fatalf("decodeResponse = %v, want errTooLarge", err)
	}
	h := newHarness(t, false, nil)
	start := time.Now()
	rec := h.serve(httptest.NewRequest("GET", "/saml/corp/acs?SAMLResponse="+url.QueryEscape(value), nil))
	if rec.Code != http.StatusBadRequest || len(h.fed.completions()) != 0 || !strings.Contains(h.log.String(), "larger than allowed") {
		t.Fatalf("ACS answered %d %q\n%s", rec.Code, rec.Body, h.log)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("refusing the bomb took %s", d)
	}
}

// A legitimate HTTP-Redirect binding response (deflated) is read.
func TestRedirectBindingResponseIsInflated(t *testing.T) {
	h := newHarness(t, false, nil)
	resp := h.respond(h.idpInitiated(""), "alice@example.com", nil)
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.DefaultCompression)
	fw.Write(resp)
	fw.Close()
	rec := h.serve(httptest.NewRequest("GET", "/saml/corp/acs?SAMLResponse="+url.QueryEscape(base64.StdEncoding.EncodeToString(b.Bytes())), nil))
	h.signedIn(rec)
}

func TestOversizedPostIsRejected(t *testing.T) {
	h := newHarness(t, false, nil)
	body := "SAMLResponse=" + strings.Repeat("A", maxBody+1)
	r := httptest.NewRequest("POST", "/saml/corp/acs", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := h.serve(r)
	if rec.Code != http.StatusBadRequest {
		t.Fatalf("ACS answered %d", rec.Code)
	}
}

func TestWrongRecipientIsRejected(t *testing.T) {
	h := newHarness(t, false, nil)
	l := h.start("/start")
	resp := h.respond(l.req, "alice@example.com", func(a *saml.Assertion) {
		a.Subject.SubjectConfirmations[0].SubjectConfirmationData.Recipient = "https://other-sp.example/acs"
	})
	h.refusedBecause(h.finish(l, resp), "Recipient is not")
}

func TestWrongDestinationIsRejected(t *testing.T) {
	h := newHarness(t, false, nil)
	l := h.start("/start")
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(l.req, session("alice@example.com")); err != nil {
		t.Fatal(err)
	}
	// The IdP meant this response (signed, recipient ours) for another SP's endpoint.
	ep := *l.req.ACSEndpoint
	ep.Location = "https://other-sp.example/acs"
	l.req.ACSEndpoint = &ep
	if err := l.req.MakeResponse(); err != nil {
		t.Fatal(err)
	}
	h.refusedBecause(h.finish(l, docBytes(t, l.req.ResponseEl)), "`Destination` does not match")
}

// A response to a request we never sent, or sent from another browser.
func TestUnknownInResponseToIsRejected(t *testing.T) {
	h := newHarness(t, false, nil)
	l := h.start("/start")
	resp := h.respond(l.req, "alice@example.com", nil)
	t.Run("without the request cookie", func(t *testing.T) {
		h.refusedBecause(h.post(resp, l.redirect.Query().Get("RelayState"), nil), "`InResponseTo` does not match")
	})
	t.Run("with another request's cookie", func(t *testing.T) {
		other := h.start("/start")
		h.refusedBecause(h.post(resp, other.redirect.Query().Get("RelayState"), other.cookies), "`InResponseTo` does not match")
	})
	t.Run("with a forged cookie", func(t *testing.T) {
		relay := l.redirect.Query().Get("RelayState")
		payload, _, _ := strings.Cut(l.cookies[0].Value, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(payload)
		var tr trackedRequest
		json.Unmarshal(raw, &tr)
		tr.RequestID = "id-forged"
		forged, _ := json.Marshal(tr)
		c := &http.Cookie{Name: l.cookies[0].Name, Value: base64.RawURLEncoding.EncodeToString(forged) + ".AAAA"}
		h.refusedBecause(h.post(resp, relay, []*http.Cookie{c}), "`InResponseTo` does not match")
	})
	t.Run("InResponseTo edited", func(t *testing.T) {
		h := newHarness(t, false, nil)
		l := h.start("/start")
		l.req.Request.ID = "id-not-ours"
		h.refusedBecause(h.finish(l, h.respond(l.req, "alice@example.com", nil)), "`InResponseTo` does not match")
	})
}

// An IdP (or anyone) with the same entity id but another key.
func TestSignatureByAnotherKeyIsRejected(t *testing.T) {
	h := newHarness(t, false, nil)
	l := h.start("/start")
	impostor := newIdP(t, otherIdPKey(), h)
	l.req.IDP = impostor
	h.refusedBecause(h.finish(l, h.respond(l.req, "alice@example.com", nil)), "Could not verify certificate against trusted certs")
}

func TestRequestForAnotherSourceIsNotAccepted(t *testing.T) {
	h := newHarness(t, false, map[string]any{"AllowIdPInitiated": false})
	h.addSource("other", map[string]any{"AllowIdPInitiated": false})
	rec := h.serve(httptest.NewRequest("GET", "/saml/other/start?next=/start", nil))
	relay, _ := url.Parse(rec.Header().Get("Location"))
	// The cookie names a request to "other"; the response arrives at "corp".
	l := h.start("/start")
	resp := h.respond(l.req, "alice@example.com", nil)
	h.refused(h.post(resp, relay.Query().Get("RelayState"), rec.Result().Cookies()))
}

func TestDisabledOrUnknownSourceIsRefused(t *testing.T) {
	h := newHarness(t, false, nil)
	resp := h.respond(h.idpInitiated(""), "alice@example.com", nil)
	off := false
	if _, err := h.svc.UpdateSource(context.Background(), federation.SourceInput{Name: "corp", Enabled: &off}); err != nil {
		t.Fatal(err)
	}
	if rec := h.post(resp, "", nil); rec.Code != http.StatusForbidden || rec.Body.String() != msgDisabled {
		t.Fatalf("disabled source: %d %q", rec.Code, rec.Body)
	}
	if rec := h.serve(httptest.NewRequest("GET", "/saml/corp/start", nil)); rec.Code != http.StatusForbidden {
		t.Fatalf("start at a disabled source: %d", rec.Code)
	}
	for _, path := range []string{"/saml/nobody/start", "/saml/nobody/metadata"} {
		if rec := h.serve(httptest.NewRequest("GET", path, nil)); rec.Code != http.StatusNotFound || rec.Body.String() != msgUnknownSource {
			t.Fatalf("%s: %d %q", path, rec.Code, rec.Body)
		}
	}
}

// A user of another source (the built-in directory's break-glass admin)
// cannot be signed in by this IdP: federation refuses after we vouch.
func TestUserOfAnotherSourceIsRefused(t *testing.T) {
	h := newHarness(t, false, nil)
	h.addUser("admin@example.com", "")
	resp := h.respond(h.idpInitiated(""), "admin@example.com", nil)
	rec := h.post(resp, "", nil)
	if rec.Code != http.StatusForbidden || len(h.pages.signedIn()) != 0 {
		t.Fatalf("ACS answered %d %q, signed in %v", rec.Code, rec.Body, h.pages.signedIn())
	}
}

// next is kept on this server whatever it says.
func TestStartKeepsNextLocal(t *testing.T) {
	h := newHarness(t, false, nil)
	for _, next := range []string{"https://evil.example/", "//evil.example/", `/\evil.example`, "javascript:alert(1)", ""} {
		l := h.start(next)
		if got := h.signedIn(h.finish(l, h.respond(l.req, "alice@example.com", nil))); got.Next != "/start" {
			t.Fatalf("next %q came back as %q", next, got.Next)
		}
		h.again()
	}
}

// The SP metadata an IdP administrator imports: stable entity id, our ACS,
// our certificate, the same on every node.
func TestSPMetadata(t *testing.T) {
	db := openStore(t)
	a := newHarnessOn(t, db, true, nil)
	b := newHarnessOn(t, db, true, nil)
	get := func(h *harness) *saml.EntityDescriptor {
		rec := h.serve(httptest.NewRequest("GET", "/saml/corp/metadata", nil))
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/samlmetadata+xml" {
			t.Fatalf("metadata: %d %s", rec.Code, rec.Header())
		}
		var ed saml.EntityDescriptor
		if err := xml.Unmarshal(rec.Body.Bytes(), &ed); err != nil {
			t.Fatal(err)
		}
		return &ed
	}
	ma, mb := get(a), get(b)
	if ma.EntityID != testBase+"/saml/corp/metadata" || len(ma.SPSSODescriptors) != 1 {
		t.Fatalf("entity %q", ma.EntityID)
	}
	sp := ma.SPSSODescriptors[0]
	if len(sp.AssertionConsumerServices) != 1 || sp.AssertionConsumerServices[0].Location != testBase+"/saml/corp/acs" ||
		sp.AssertionConsumerServices[0].Binding != saml.HTTPPostBinding {
		t.Fatalf("ACS %+v", sp.AssertionConsumerServices)
	}
	uses := map[string]string{}
	for _, kd := range sp.KeyDescriptors {
		uses[kd.Use] = kd.KeyInfo.X509Data.X509Certificates[0].Data
	}
	if uses["signing"] == "" || uses["encryption"] != uses["signing"] {
		t.Fatalf("key descriptors %+v", uses)
	}
	if mb.SPSSODescriptors[0].KeyDescriptors[0].KeyInfo.X509Data.X509Certificates[0].Data != uses["signing"] {
		t.Fatal("two nodes on one store publish different SP certificates")
	}
	// What `atrium idp show` tells the IdP's administrator.
	if got := a.svc.Endpoints(a.src); got["MetadataUrl"] != ma.EntityID || got["EntityId"] != ma.EntityID ||
		got["AcsUrl"] != testBase+"/saml/corp/acs" || got["SignInUrl"] != testBase+"/saml/corp/start?next=%2Fstart" {
		t.Fatalf("endpoints %v", got)
	}
}

func TestJavascriptURLInMetadataIsRejected(t *testing.T) {
	h := newHarness(t, false, nil)
	good := idpMetadataXML(t, h.idp)
	cases := map[string]func(string) string{
		"sign-on location": func(md string) string {
			return strings.Replace(md, `Location="https://idp.example/sso"`, `Location="javascript:alert(document.cookie)"`, 1)
		},
		"sign-on location with spaces and case": func(md string) string {
			return strings.Replace(md, `Location="https://idp.example/sso"`, `Location=" JavaScript:alert(1)"`, 1)
		},
		"data URL": func(md string) string {
			return strings.Replace(md, `Location="https://idp.example/sso"`, `Location="data:text/html,&lt;script&gt;alert(1)&lt;/script&gt;"`, 1)
		},
		"errorURL": func(md string) string {
			return strings.Replace(md, `<IDPSSODescriptor `, `<IDPSSODescriptor errorURL="javascript:alert(1)" `, 1)
		},
		"organization URL": func(md string) string {
			return strings.Replace(md, `</EntityDescriptor>`, `<Organization><OrganizationName xml:lang="en">x</OrganizationName><OrganizationDisplayName xml:lang="en">x</OrganizationDisplayName><OrganizationURL xml:lang="en">javascript:alert(1)</OrganizationURL></Organization></EntityDescriptor>`, 1)
		},
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			md := edit(good)
			if md == good {
				t.Fatal("edit did not apply")
			}
			raw, _ := json.Marshal(map[string]string{"MetadataXML": md})
			_, err := h.sp.CheckConfig(context.Background(), h.src, raw)
			if err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
				t.Fatalf("CheckConfig = %v", err)
			}
		})
	}
}

func TestCheckConfig(t *testing.T) {
	h := newHarness(t, false, nil)
	good := idpMetadataXML(t, h.idp)
	check := func(v any) error {
		raw, _ := json.Marshal(v)
		_, err := h.sp.CheckConfig(context.Background(), h.src, raw)
		return err
	}
	noSigning := strings.Replace(good, `use="signing"`, `use="encryption"`, 1)
	for name, tc := range map[string]struct {
		settings any
		want     string
	}{
		"nothing":         {map[string]any{}, "need the IdP metadata"},
		"unknown field":   {map[string]any{"MetadataXML": good, "Colour": "red"}, "expected shape"},
		"not XML":         {map[string]any{"MetadataXML": "hello"}, "not XML"},
		"too large":       {map[string]any{"MetadataXML": good + strings.Repeat(" ", maxMetadata)}, "larger than 75000"},
		"no signing cert": {map[string]any{"MetadataXML": noSigning}, "no signing certificate"},
		"SP metadata":     {map[string]any{"MetadataXML": strings.ReplaceAll(good, "IDPSSODescriptor", "SPSSODescriptor")}, "one identity provider"},
		"no redirect SSO": {map[string]any{"MetadataXML": strings.ReplaceAll(good, saml.HTTPRedirectBinding, saml.HTTPArtifactBinding)}, "HTTP-Redirect"},
		"bad mapping":     {map[string]any{"MetadataXML": good, "AttributeMapping": map[string]string{"shoeSize": "x"}}, "unknown key"},
		"http URL":        {map[string]any{"MetadataURL": "http://idp.example/metadata"}, "must be an https URL"},
		"file URL":        {map[string]any{"MetadataURL": "file:///etc/passwd"}, "must be an https URL"},
	} {
		t.Run(name, func(t *testing.T) {
			err := check(tc.settings)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckConfig = %v, want %q", err, tc.want)
			}
			if _, ok := err.(*ConfigError); !ok {
				t.Fatalf("%T is not a ConfigError", err)
			}
		})
	}
	t.Run("aggregate of two IdPs", func(t *testing.T) {
		body := strings.TrimPrefix(good, `<?xml version="1.0" encoding="UTF-8"?>`)
		two := `<EntitiesDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata">` + body +
			strings.Replace(body, "https://idp.example/metadata", "https://idp2.example/metadata", 1) + `</EntitiesDescriptor>`
		if err := check(map[string]any{"MetadataXML": two}); err == nil {
			t.Fatal("accepted metadata of two IdPs")
		}
	})
}

func TestCheckConfigFetchesMetadataURL(t *testing.T) {
	h := newHarness(t, false, nil)
	good := idpMetadataXML(t, h.idp)
	mux := http.NewServeMux()
	mux.HandleFunc("/md", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(good)) })
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(strings.Repeat(" ", maxMetadata+10))) })
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://198.51.100.7/md", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	check := func(path string) (*Config, error) {
		raw, _ := json.Marshal(map[string]any{"MetadataURL": srv.URL + path})
		out, err := h.sp.CheckConfig(context.Background(), h.src, raw)
		if err != nil {
			return nil, err
		}
		var c Config
		return &c, json.Unmarshal(out, &c)
	}
	c, err := check("/md")
	if err != nil || c.MetadataURL != srv.URL+"/md" || !strings.Contains(c.MetadataXML, "https://idp.example/sso") {
		t.Fatalf("CheckConfig = %+v, %v", c, err)
	}
	if _, err := parseStoredConfig(mustJSON(c)); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/huge": "larger than", "/missing": "HTTP 404", "/elsewhere": "https URL"} {
		if _, err := check(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func TestStartPath(t *testing.T) {
	h := newHarness(t, false, nil)
	if got := h.sp.StartPath(h.src, "/start/x?y=1"); got != "/saml/corp/start?next=%2Fstart%2Fx%3Fy%3D1" {
		t.Fatal(got)
	}
	if got := h.sp.StartPath(h.src, "https://evil.example"); got != "/saml/corp/start?next=%2Fstart" {
		t.Fatal(got)
	}
}

func TestNameIDMustBeAnEmail(t *testing.T) {
	h := newHarness(t, false, nil)
	resp := h.respond(h.idpInitiated(""), "alice@example.com", func(a *saml.Assertion) {
		a.Subject.NameID.Format = string(saml.TransientNameIDFormat)
		a.Subject.NameID.Value = "_8f7a6c"
	})
	h.refused(h.post(resp, "", nil))
	h2 := newHarness(t, false, nil)
	resp = h2.respond(h2.idpInitiated(""), "alice@example.com", func(a *saml.Assertion) { a.Subject.NameID.Value = "not an email" })
	h2.refused(h2.post(resp, "", nil))
}

// Whatever arrives at the ACS, the answer is the one plain refusal, never
// a 500 or a detail of what was wrong.
func TestMalformedResponsesAreRefusedPlainly(t *testing.T) {
	h := newHarness(t, false, nil)
	for name, value := range map[string]string{
		"missing":        "",
		"not base64":     "%%%not base64%%%",
		"not XML":        base64.StdEncoding.EncodeToString([]byte("hello")),
		"empty response": base64.StdEncoding.EncodeToString([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`)),
		"entity bomb":    base64.StdEncoding.EncodeToString([]byte(`<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;&b;&b;</r>`)),
		"wrong root":     base64.StdEncoding.EncodeToString([]byte(`<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"/>`)),
		"deep nesting":   base64.StdEncoding.EncodeToString([]byte(strings.Repeat("<a>", 100000) + strings.Repeat("</a>", 100000))),
		"error status":   base64.StdEncoding.EncodeToString([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0"><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Requester"/></samlp:Status></samlp:Response>`)),
	} {
		t.Run(name, func(t *testing.T) {
			form := url.Values{"SAMLResponse": {value}}
			r := httptest.NewRequest("POST", "/saml/corp/acs", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := h.serve(r)
			if (rec.Code != http.StatusBadRequest && rec.Code != http.StatusForbidden) || rec.Body.String() != msgRefused {
				t.Fatalf("ACS answered %d %q", rec.Code, rec.Body)
			}
		})
	}
}
