package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
)

// The SAML stories run Debian's simplesamlphp as the company IdP, served by
// `php -S` on loopback and configured from testdata/simplesamlphp (see its
// README): Atrium's source is created with the admin CLI from the IdP's
// metadata URL, the IdP imports Atrium's SP metadata with its own parser,
// and a person signs in through both in Chromium.

const simpleSAMLphpRoot = "/usr/share/simplesamlphp"

// requireSimpleSAMLphp skips, saying what is missing, unless php and
// Debian's simplesamlphp with the PHP modules it needs are here (.ci/run
// installs them).
func requireSimpleSAMLphp(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("php"); err != nil {
		t.Skip("SAML IdP tests skipped: no php (apt-get install simplesamlphp php-xml php-mbstring php-cli); .ci/run installs them")
	}
	if _, err := os.Stat(filepath.Join(simpleSAMLphpRoot, "lib", "_autoload.php")); err != nil {
		t.Skip("SAML IdP tests skipped: simplesamlphp is not installed (apt-get install simplesamlphp php-xml php-mbstring); .ci/run installs it")
	}
	out, err := exec.Command("php", "-m").Output()
	if err != nil {
		t.Skipf("SAML IdP tests skipped: php -m: %v", err)
	}
	for _, m := range []string{"dom", "mbstring", "openssl"} {
		if !slices.Contains(strings.Fields(string(out)), m) {
			t.Skipf("SAML IdP tests skipped: php has no %s module (apt-get install php-xml php-mbstring)", m)
		}
	}
}

// simpleSAMLphp is a running IdP: its base URL and working folder.
type simpleSAMLphp struct {
	t    *testing.T
	url  string // ends in "/"
	dir  string
	env  []string
	logs *syncBuffer
}

// startSimpleSAMLphp serves simplesamlphp on a free loopback port with a
// key and certificate made now.
func startSimpleSAMLphp(t *testing.T) *simpleSAMLphp {
	t.Helper()
	requireSimpleSAMLphp(t)
	testdata, err := filepath.Abs(filepath.Join("testdata", "simplesamlphp"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, sub := range []string{"metadata", "tmp", "sessions"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	hosted, err := os.ReadFile(filepath.Join(testdata, "metadata", "saml20-idp-hosted.php"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metadata", "saml20-idp-hosted.php"), hosted, 0o600); err != nil {
		t.Fatal(err)
	}
	writeIdPKeyPair(t, dir)
	salt := make([]byte, 16)
	rand.Read(salt)
	s := &simpleSAMLphp{t: t, url: "http://" + freePort(t) + "/", dir: dir, logs: &syncBuffer{}}
	s.env = append(os.Environ(), "SIMPLESAMLPHP_CONFIG_DIR="+filepath.Join(testdata, "config"), "ATRIUM_SSP_DIR="+dir,
		"ATRIUM_SSP_BASEURL="+s.url, "ATRIUM_SSP_SALT="+hex.EncodeToString(salt))
	u, _ := url.Parse(s.url)
	cmd := exec.Command("php", "-S", u.Host, "-t", filepath.Join(simpleSAMLphpRoot, "www"))
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("simplesamlphp log:\n%s", s.logs)
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(s.metadataURL())
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("simplesamlphp did not serve its metadata: %v\n%s", err, s.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (s *simpleSAMLphp) metadataURL() string { return s.url + "saml2/idp/metadata.php" }

// writeIdPKeyPair makes the IdP's signing key, valid for this run only.
func writeIdPKeyPair(t *testing.T, dir string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "simplesamlphp test IdP"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	pk, _ := x509.MarshalPKCS8PrivateKey(key)
	for name, b := range map[string]*pem.Block{"idp.key": {Type: "PRIVATE KEY", Bytes: pk}, "idp.crt": {Type: "CERTIFICATE", Bytes: der}} {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// trust has the IdP import Atrium's SP metadata, as its administrator
// would, with simplesamlphp's own parser (testdata/simplesamlphp/sp-remote.php).
func (s *simpleSAMLphp) trust(spMetadataURL string) {
	s.t.Helper()
	resp, err := http.Get(spMetadataURL)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	md, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/samlmetadata+xml" {
		s.t.Fatalf("SP metadata: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), md)
	}
	file := filepath.Join(s.dir, "sp-metadata.xml")
	if err := os.WriteFile(file, md, 0o600); err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command("php", filepath.Join("testdata", "simplesamlphp", "sp-remote.php"), file, filepath.Join(s.dir, "metadata", "saml20-sp-remote.php"))
	cmd.Env = s.env
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("sp-remote.php: %v\n%s", err, out)
	}
}

// samlScene is a node with the SAML source "corp" created with the CLI from
// simplesamlphp's metadata URL, the IdP trusting Atrium, alice (in corp,
// alice@example.com at the IdP) and root (built-in) holding ReadOnly in Dev.
type samlScene struct {
	n      *node
	web    string
	env    []string
	idp    *simpleSAMLphp
	dev    string
	source map[string]string
}

func newSAMLScene(t *testing.T) *samlScene {
	t.Helper()
	idp := startSimpleSAMLphp(t)
	n, web := startWebNode(t, nodeOptions{})
	s := &samlScene{n: n, web: web, idp: idp}
	s.env = cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out := mustAtrium(t, s.env, "idp", "create", "corp", "--type", "saml", "--metadata-url", idp.metadataURL(), "--output", "json")
	if err := json.Unmarshal([]byte(out), &s.source); err != nil {
		t.Fatalf("idp create output %q: %v", out, err)
	}
	idp.trust(s.source["MetadataUrl"])

	f := newAccessFixture(t, n)
	s.dev = f.account("Dev")
	readOnly := f.permissionSet("ReadOnly", "PT2H", "arn:aws:iam::aws:policy/ReadOnlyAccess")
	alice := mustCreateUser(t, f.ids, &identitystore.CreateUserInput{IdentityStoreId: aws.String(f.storeID), UserName: aws.String("alice"),
		DisplayName: aws.String("Alice Liddell"), Name: &istypes.Name{GivenName: aws.String("Alice"), FamilyName: aws.String("Liddell")},
		Emails: []istypes.Email{{Value: aws.String("alice@example.com"), Primary: true}}})
	mustAtrium(t, s.env, "user", "set-source", "alice", "--idp", "corp")
	// root@example.com is a built-in directory user (a break-glass admin):
	// the IdP's mallory carries that email and must not become them.
	root := mustCreateUser(t, f.ids, &identitystore.CreateUserInput{IdentityStoreId: aws.String(f.storeID), UserName: aws.String("root"),
		DisplayName: aws.String("Break glass"), Name: &istypes.Name{GivenName: aws.String("Break"), FamilyName: aws.String("Glass")},
		Emails: []istypes.Email{{Value: aws.String("root@example.com"), Primary: true}}})
	for _, u := range []string{alice, root} {
		if st := f.assign(s.dev, readOnly, types.PrincipalTypeUser, u); st.Status != types.StatusValuesSucceeded {
			t.Fatalf("assignment: %+v", st)
		}
	}
	return s
}

func (s *samlScene) wantPortal(t *testing.T, p *person) {
	t.Helper()
	var portal struct {
		Heading  string
		Accounts []portalAccount
	}
	p.do("portal", nil, &portal)
	want := []portalAccount{{"Dev", s.dev, "dev@example.com", []string{"ReadOnly"}}}
	if portal.Heading != "AWS access portal" || !slices.EqualFunc(portal.Accounts, want, func(a, b portalAccount) bool {
		return a.Name == b.Name && a.ID == b.ID && a.Email == b.Email && slices.Equal(a.Roles, b.Roles)
	}) {
		t.Fatalf("portal %q shows %+v, want %+v", portal.Heading, portal.Accounts, want)
	}
}

// The administrator's side: the CLI creates the source from the IdP's
// metadata URL and shows what the IdP needs; Atrium's SP metadata names
// them; a metadata URL that is not http(s) on loopback or https is refused.
func TestSAMLIdentityProviderCreatedWithTheCLI(t *testing.T) {
	s := newSAMLScene(t)
	base := s.web + "/saml/corp"
	if s.source["MetadataUrl"] != base+"/metadata" || s.source["EntityId"] != base+"/metadata" || s.source["AcsUrl"] != base+"/acs" {
		t.Fatalf("endpoints in %v", s.source)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(s.source["Configuration"]), &cfg); err != nil || cfg["MetadataURL"] != s.idp.metadataURL() ||
		!strings.Contains(fmt.Sprint(cfg["MetadataXML"]), s.idp.url+"saml2/idp/SSOService.php") {
		t.Fatalf("Configuration %q: %v", s.source["Configuration"], err)
	}
	for name, args := range map[string][]string{
		"plain http off loopback": {"--metadata-url", "http://idp.example.com/metadata"},
		"not metadata":            {"--metadata-url", s.web + "/healthz"},
	} {
		out, errOut, code := atrium(t, s.env, append([]string{"idp", "create", "bad", "--type", "saml"}, args...)...)
		if code == 0 || !strings.Contains(errOut, "ValidationException") {
			t.Errorf("%s: exit %d\n%s%s", name, code, out, errOut)
		}
	}
}

// A person signs in through simplesamlphp in Chromium, from the sign-in
// page's button (SP-initiated), and the portal shows their accounts.
func TestSAMLSignInThroughSimpleSAMLphpShowsThePortal(t *testing.T) {
	chromium := requireBrowser(t)
	s := newSAMLScene(t)
	p := newPersonWith(t, chromium, "saml-driver.mjs")

	if at := p.step("open", map[string]any{"url": s.web + "/start", "atriumURL": s.web}); at.Heading != "Sign in" {
		t.Fatalf("/start without a session showed %q at %s", at.Heading, at.URL)
	}
	if at := p.step("press", map[string]any{"name": "Sign in with corp"}); !strings.HasPrefix(at.URL, s.idp.url) {
		t.Fatalf("the IdP button led to %q at %s", at.Heading, at.URL)
	}
	var back struct {
		browserPage
		Posted map[string]string
	}
	p.do("idpSignIn", map[string]any{"user": "alice", "password": "Alice-IdP-Passw0rd"}, &back)
	if back.URL != s.web+"/start" || back.Heading != "AWS access portal" || !slices.Contains(back.Visited, "POST "+s.web+"/saml/corp/acs") {
		t.Fatalf("after the IdP: %q at %s, through %v\n%s\nserver log:\n%s", back.Heading, back.URL, back.Visited, back.Text, s.n.Log())
	}
	// The IdP encrypted the assertion to the certificate in Atrium's SP
	// metadata (sp-remote.php asks it to), and Atrium read it.
	form, _ := url.ParseQuery(back.Posted[s.web+"/saml/corp/acs"])
	if xml, err := base64.StdEncoding.DecodeString(form.Get("SAMLResponse")); err != nil || !strings.Contains(string(xml), "EncryptedAssertion") ||
		strings.Contains(string(xml), "alice@example.com") {
		t.Fatalf("the IdP posted %q (%v)", xml, err)
	}
	s.wantPortal(t, p)
	var jar struct{ Cookies []browserCookie }
	p.do("cookies", nil, &jar)
	session := false
	for _, c := range jar.Cookies {
		if strings.HasPrefix(c.Name, "__Host-atrium-saml-") {
			t.Fatalf("the SAML request cookie outlived the sign-in: %+v", c)
		}
		session = session || c.Name == "__Host-atrium-session" && c.Secure && c.HTTPOnly
	}
	if !session {
		t.Fatalf("no session cookie: %+v", jar.Cookies)
	}
	var problems struct{ Problems []string }
	p.do("problems", nil, &problems)
	if len(problems.Problems) > 0 {
		t.Fatalf("the browser reported problems:\n%s", strings.Join(problems.Problems, "\n"))
	}
}

// A sign-in started at the IdP (simplesamlphp's IdP-first SSO link) lands
// on the portal too.
func TestSAMLIdPInitiatedSignInThroughSimpleSAMLphp(t *testing.T) {
	chromium := requireBrowser(t)
	s := newSAMLScene(t)
	p := newPersonWith(t, chromium, "saml-driver.mjs")
	p.step("open", map[string]any{"url": s.idp.url + "saml2/idp/SSOService.php?spentityid=" + url.QueryEscape(s.source["EntityId"]), "atriumURL": s.web})
	back := p.step("idpSignIn", map[string]any{"user": "alice", "password": "Alice-IdP-Passw0rd"})
	if back.URL != s.web+"/start" || back.Heading != "AWS access portal" {
		t.Fatalf("after the IdP: %q at %s, through %v\n%s\nserver log:\n%s", back.Heading, back.URL, back.Visited, back.Text, s.n.Log())
	}
	s.wantPortal(t, p)
}

// An IdP account whose email is a built-in directory user's (a break-glass
// admin) is refused on a plain page, with no session.
func TestSAMLSignInOfAnotherSourcesUserIsRefusedInChromium(t *testing.T) {
	chromium := requireBrowser(t)
	s := newSAMLScene(t)
	p := newPersonWith(t, chromium, "saml-driver.mjs")
	p.step("open", map[string]any{"url": s.web + "/saml/corp/start", "atriumURL": s.web})
	back := p.step("idpSignIn", map[string]any{"user": "mallory", "password": "Mallory-IdP-Passw0rd"})
	if back.Heading != "Sign-in failed" || back.URL != s.web+"/saml/corp/acs" || !strings.Contains(back.Text, "no Atrium user for you") {
		t.Fatalf("mallory ended on %q at %s:\n%s", back.Heading, back.URL, back.Text)
	}
	var jar struct{ Cookies []browserCookie }
	p.do("cookies", nil, &jar)
	for _, c := range jar.Cookies {
		if c.Name == "__Host-atrium-session" {
			t.Fatal("a refused sign-in left a session cookie")
		}
	}
}
