package saml

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/mail"
	"strings"

	"github.com/crewjam/saml"

	"github.com/atrium-sso/atrium/internal/federation"
)

// Limits on what an unauthenticated browser can make us read.
const (
	maxResponseXML = 512 << 10                    // a decoded Response; real ones are a few KiB
	maxBody        = 4*(maxResponseXML/3) + 8<<10 // the POSTed form: base64 of the above, RelayState
)

var errTooLarge = errors.New("saml: response larger than allowed")

// readResponse takes the SAMLResponse and RelayState from the ACS request:
// POSTed (HTTP-POST binding: base64 XML) or in the query (HTTP-Redirect
// binding: base64 DEFLATE, inflated under the same cap).
func readResponse(rw http.ResponseWriter, r *http.Request) (xmlResponse []byte, relay string, err error) {
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(rw, r.Body, maxBody)
		if err := r.ParseForm(); err != nil {
			return nil, "", fmt.Errorf("form: %w", err)
		}
		b, err := decodeResponse(r.PostForm.Get("SAMLResponse"), false)
		return b, r.PostForm.Get("RelayState"), err
	}
	q := r.URL.Query()
	b, err := decodeResponse(q.Get("SAMLResponse"), true)
	return b, q.Get("RelayState"), err
}

// decodeResponse turns a SAMLResponse form value into XML, never reading
// more than maxResponseXML bytes whatever it claims to hold.
func decodeResponse(value string, deflated bool) ([]byte, error) {
	if value == "" {
		return nil, errors.New("saml: no SAMLResponse")
	}
	if len(value) > base64.StdEncoding.EncodedLen(maxResponseXML)+len(value)/64+4 {
		return nil, errTooLarge
	}
	// IdPs wrap base64 at 64 or 76 columns; the decoder skips \r and \n.
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(value))
	if err != nil {
		return nil, fmt.Errorf("saml: SAMLResponse is not base64: %w", err)
	}
	if !deflated {
		if len(raw) > maxResponseXML {
			return nil, errTooLarge
		}
		return raw, nil
	}
	// A DEFLATE bomb inflates a thousandfold: read one byte past the cap
	// and stop.
	fr := flate.NewReader(bytes.NewReader(raw))
	defer fr.Close()
	out, err := io.ReadAll(io.LimitReader(fr, maxResponseXML+1))
	if err != nil {
		return nil, fmt.Errorf("saml: SAMLResponse does not inflate: %w", err)
	}
	if len(out) > maxResponseXML {
		return nil, errTooLarge
	}
	return out, nil
}

// NameID formats whose value is an email address (AWS takes email and
// unspecified, reading the value as the user name).
var emailFormats = map[string]bool{
	"": true, string(saml.EmailAddressNameIDFormat): true, string(saml.UnspecifiedNameIDFormat): true,
	string(saml.PersistentNameIDFormat): true,
}

// identityOf is the person a checked assertion vouches for.
func identityOf(a *saml.Assertion, mapping map[string]string) (*federation.Identity, error) {
	if a.Subject == nil || a.Subject.NameID == nil || strings.TrimSpace(a.Subject.NameID.Value) == "" {
		return nil, errors.New("assertion has no NameID")
	}
	nameID := a.Subject.NameID
	if !emailFormats[nameID.Format] {
		return nil, fmt.Errorf("NameID format %q: Atrium takes the emailAddress (or unspecified/persistent email) format", nameID.Format)
	}
	id := &federation.Identity{Subject: strings.TrimSpace(nameID.Value), Attributes: map[string][]string{}}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			for _, v := range at.Values {
				id.Attributes[at.Name] = append(id.Attributes[at.Name], v.Value)
			}
		}
	}
	get := func(key string, fallbacks ...string) string {
		names := fallbacks
		if n := mapping[key]; n != "" {
			names = []string{n} // an administrator's mapping is the only source
		}
		for _, n := range names {
			if vs := id.Attributes[n]; len(vs) > 0 && strings.TrimSpace(vs[0]) != "" {
				return strings.TrimSpace(vs[0])
			}
		}
		return ""
	}
	id.Email = get("email")
	if id.Email == "" {
		id.Email = id.Subject
	}
	if a, err := mail.ParseAddress(id.Email); err != nil || a.Address != id.Email || a.Name != "" {
		return nil, fmt.Errorf("the person's email %q (NameID or mapped attribute) is not an email address", id.Email)
	}
	id.DisplayName = get("displayName", "displayName", "urn:oid:2.16.840.1.113730.3.1.241", "cn", "urn:oid:2.5.4.3")
	id.GivenName = get("givenName", "givenName", "urn:oid:2.5.4.42", "firstName")
	id.FamilyName = get("familyName", "sn", "urn:oid:2.5.4.4", "surname", "lastName")
	return id, nil
}
