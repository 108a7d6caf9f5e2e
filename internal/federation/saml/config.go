package saml

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/atrium-sso/atrium/internal/federation"
)

// Config is a SAML source's settings (federation.Source.Config).
type Config struct {
	// MetadataXML is the IdP's metadata; after CheckConfig always set, to
	// the one IdP entity it describes, re-serialised.
	MetadataXML string `json:",omitempty"`
	// MetadataURL is where the metadata was fetched from, if it was.
	MetadataURL string `json:",omitempty"`
	// AttributeMapping names the assertion attributes that carry the
	// person's details: email, displayName, givenName, familyName.
	AttributeMapping map[string]string `json:",omitempty"`
	// AllowIdPInitiated accepts responses nobody asked for (sign-in started
	// from the IdP's own portal), as AWS does; default true.
	AllowIdPInitiated *bool `json:",omitempty"`
}

// maxMetadata is AWS's limit on an IdP metadata document.
const maxMetadata = 75000

var mappingKeys = []string{"email", "displayName", "givenName", "familyName"}

func (c *Config) idpInitiated() bool { return c.AllowIdPInitiated == nil || *c.AllowIdPInitiated }

func (c *Config) idpMetadata() (*saml.EntityDescriptor, error) {
	return samlsp.ParseMetadata([]byte(c.MetadataXML))
}

func parseStoredConfig(raw []byte) (*Config, error) {
	var c Config
	if err := json.Unmarshal(raw, &c); err != nil {
		return nil, err
	}
	if c.MetadataXML == "" {
		return nil, errors.New("no IdP metadata")
	}
	return &c, nil
}

// ConfigError is a refused setting, said so that an administrator can fix it.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

func configErr(format string, a ...any) error { return &ConfigError{Msg: fmt.Sprintf(format, a...)} }

// CheckConfig validates a source's settings: the IdP metadata (given, or
// fetched from MetadataURL) must describe one IdP with a signing certificate
// and an HTTP-Redirect sign-on endpoint, and every URL in it must be http(s).
func (p *Protocol) CheckConfig(ctx context.Context, src *federation.Source, raw json.RawMessage) (json.RawMessage, error) {
	var c Config
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, configErr("SAML settings are not valid JSON of the expected shape: %v", err)
	}
	for k, v := range c.AttributeMapping {
		if !slices.Contains(mappingKeys, k) {
			return nil, configErr("AttributeMapping: unknown key %q (known: %s)", k, strings.Join(mappingKeys, ", "))
		}
		if strings.TrimSpace(v) == "" || len(v) > 1024 {
			return nil, configErr("AttributeMapping: %s must name an attribute", k)
		}
	}
	switch {
	case c.MetadataXML != "" && c.MetadataURL != "":
		// An update that keeps the URL refetches it.
		c.MetadataXML = ""
		fallthrough
	case c.MetadataURL != "":
		b, err := fetchMetadata(ctx, c.MetadataURL)
		if err != nil {
			return nil, err
		}
		c.MetadataXML = string(b)
	case c.MetadataXML == "":
		return nil, configErr("SAML settings need the IdP metadata: MetadataXML or MetadataURL")
	}
	normalised, err := checkMetadata([]byte(c.MetadataXML))
	if err != nil {
		return nil, err
	}
	c.MetadataXML = normalised
	return json.Marshal(c)
}

// metadataClient fetches IdP metadata: a short timeout, and redirects only
// to where a first request could have gone.
var metadataClient = &http.Client{
	Timeout: 10 * time.Second,
	CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		return checkMetadataURL(req.URL)
	},
}

func checkMetadataURL(u *url.URL) error {
	switch {
	case u.Scheme == "https" && u.Host != "":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil // a test or a sidecar on this machine
	}
	return configErr("MetadataURL must be an https URL (http only on a loopback address), not %q", u.Redacted())
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func fetchMetadata(ctx context.Context, raw string) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, configErr("MetadataURL is not a URL: %v", err)
	}
	if err := checkMetadataURL(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, configErr("MetadataURL: %v", err)
	}
	req.Header.Set("Accept", "application/samlmetadata+xml, application/xml, text/xml")
	resp, err := metadataClient.Do(req)
	if err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			return nil, ce
		}
		return nil, configErr("fetching the IdP metadata from %s failed: %v", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, configErr("fetching the IdP metadata from %s answered HTTP %d", u.Redacted(), resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadata+1))
	if err != nil {
		return nil, configErr("reading the IdP metadata from %s failed: %v", u.Redacted(), err)
	}
	if len(b) > maxMetadata {
		return nil, configErr("the IdP metadata at %s is larger than %d characters", u.Redacted(), maxMetadata)
	}
	return b, nil
}

// checkMetadata parses IdP metadata, checks what Atrium relies on, and
// returns the IdP's entity re-serialised.
func checkMetadata(b []byte) (string, error) {
	if utf8.RuneCount(b) > maxMetadata {
		return "", configErr("the IdP metadata is larger than %d characters", maxMetadata)
	}
	if !utf8.Valid(b) {
		return "", configErr("the IdP metadata is not UTF-8")
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(b); err != nil || doc.Root() == nil {
		return "", configErr("the IdP metadata is not XML: %v", err)
	}
	if err := checkURLs(doc.Root()); err != nil {
		return "", err
	}
	ed, err := samlsp.ParseMetadata(b)
	if err != nil {
		return "", configErr("the IdP metadata is not SAML 2.0 metadata of one identity provider: %v", err)
	}
	if ed.EntityID == "" {
		return "", configErr("the IdP metadata has no entityID")
	}
	if len(ed.IDPSSODescriptors) != 1 {
		return "", configErr("the IdP metadata must describe one identity provider (one IDPSSODescriptor), not %d", len(ed.IDPSSODescriptors))
	}
	idp := ed.IDPSSODescriptors[0]
	if !strings.Contains(idp.ProtocolSupportEnumeration, "urn:oasis:names:tc:SAML:2.0:protocol") {
		return "", configErr("the IdP metadata does not support the SAML 2.0 protocol")
	}
	signing := 0
	for _, kd := range idp.KeyDescriptors {
		if kd.Use != "" && kd.Use != "signing" {
			continue
		}
		for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
			if _, err := parseCertBase64(xc.Data); err != nil {
				return "", configErr("the IdP metadata has a signing certificate that cannot be read: %v", err)
			}
			signing++
		}
	}
	if signing == 0 {
		return "", configErr("the IdP metadata has no signing certificate")
	}
	redirect := false
	for _, ep := range idp.SingleSignOnServices {
		if ep.Binding == saml.HTTPRedirectBinding {
			redirect = true
		}
	}
	if !redirect {
		return "", configErr("the IdP metadata has no SingleSignOnService with the HTTP-Redirect binding")
	}
	out, err := xml.Marshal(ed)
	if err != nil {
		return "", fmt.Errorf("saml: re-serialising metadata: %w", err)
	}
	// What is stored must read back the same.
	if _, err := samlsp.ParseMetadata(out); err != nil {
		return "", fmt.Errorf("saml: re-serialised metadata does not parse: %w", err)
	}
	return string(out), nil
}

// checkURLs refuses any URL in the metadata that is not http(s): a
// javascript: or data: location would run in someone's browser.
func checkURLs(root *etree.Element) error {
	var walk func(el *etree.Element) error
	walk = func(el *etree.Element) error {
		for _, a := range el.Attr {
			if a.Space == "xmlns" || a.Key == "xmlns" {
				continue
			}
			if strings.HasSuffix(a.Key, "Location") || strings.HasSuffix(a.Key, "URL") {
				if err := checkHTTPURL(el.Tag+"@"+a.Key, a.Value); err != nil {
					return err
				}
			}
		}
		if strings.HasSuffix(el.Tag, "URL") || el.Tag == "Logo" {
			if err := checkHTTPURL(el.Tag, el.Text()); err != nil {
				return err
			}
		}
		for _, c := range el.ChildElements() {
			if err := walk(c); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(root)
}

func checkHTTPURL(where, raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return configErr("the IdP metadata has a %s that is not an http(s) URL: %q", where, truncate(raw, 80))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func parseCertBase64(b64 string) (*x509.Certificate, error) {
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(b64), ""))
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}
