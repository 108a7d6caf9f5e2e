package sigv4

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// canonicalRequest rebuilds the canonical request the client signed:
//
//	METHOD \n URI \n QUERY \n HEADERS(each ending in \n) \n SIGNED-HEADERS \n PAYLOAD-HASH
//
// What the SDK signs, and therefore what is rebuilt here:
//   - URI: the escaped path as sent, escaped a second time (every byte but
//     unreserved characters and '/'), as all non-S3 services expect. No
//     dot-segment normalization (aws-sdk-go-v2 does none).
//   - QUERY: every pair decoded the way url.ParseQuery does ('+' is a space,
//     so it is re-encoded as %20; a literal plus arrives as %2B), re-encoded
//     per RFC 3986 with upper-case hex, sorted by encoded key then value.
//     Presigned URLs leave X-Amz-Signature out.
//   - HEADERS: only the listed ones, values trimmed, runs of spaces collapsed,
//     repeated values joined by ','. host comes from r.Host (net/http moves
//     it out of r.Header); content-length stays in r.Header on the server,
//     and falls back to r.ContentLength / len(body) if a proxy dropped it.
func canonicalRequest(r *http.Request, a *auth, body []byte, payloadHash string) ([]byte, *Error) {
	b := make([]byte, 0, 512)
	b = append(b, r.Method...)
	b = append(b, '\n')

	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	b = appendEscaped(b, path, true)
	b = append(b, '\n')

	b = appendCanonicalQuery(b, a.query, a.presigned)
	b = append(b, '\n')

	for _, name := range a.signedHeaders {
		values, ok := headerValues(r, name, len(body))
		if !ok {
			return nil, errorf(BadSignature, "Signed header %q is missing from the request.", name)
		}
		b = append(b, name...)
		b = append(b, ':')
		for i, v := range values {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendTrimmed(b, v)
		}
		b = append(b, '\n')
	}
	b = append(b, '\n')
	b = append(b, a.signedList...)
	b = append(b, '\n')
	b = append(b, payloadHash...)
	return b, nil
}

// headerValues returns the values of a signed header as the server sees them.
func headerValues(r *http.Request, name string, bodyLen int) ([]string, bool) {
	if name == "host" {
		if r.Host != "" {
			return []string{r.Host}, true
		}
		return []string{r.URL.Host}, r.URL.Host != ""
	}
	if vs := r.Header.Values(name); len(vs) > 0 {
		return vs, true
	}
	switch name {
	case "content-length":
		n := r.ContentLength
		if n < 0 {
			n = int64(bodyLen)
		}
		return []string{strconv.FormatInt(n, 10)}, true
	case "transfer-encoding":
		// net/http moves Transfer-Encoding out of r.Header as well.
		if len(r.TransferEncoding) > 0 {
			return []string{strings.Join(r.TransferEncoding, ",")}, true
		}
	}
	return nil, false
}

func appendCanonicalQuery(b []byte, pairs []queryPair, presigned bool) []byte {
	if len(pairs) == 0 {
		return b
	}
	enc := make([]queryPair, 0, len(pairs))
	for _, p := range pairs {
		if presigned && p.key == "X-Amz-Signature" {
			continue
		}
		enc = append(enc, queryPair{escape(p.key), escape(p.value)})
	}
	slices.SortFunc(enc, func(x, y queryPair) int {
		if c := cmp.Compare(x.key, y.key); c != 0 {
			return c
		}
		return cmp.Compare(x.value, y.value)
	})
	for i, p := range enc {
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, p.key...)
		b = append(b, '=')
		b = append(b, p.value...)
	}
	return b
}

func escape(s string) string {
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i]) {
			return string(appendEscaped(make([]byte, 0, len(s)+16), s, false))
		}
	}
	return s
}

// appendEscaped percent-encodes every byte except RFC 3986 unreserved
// characters (and '/' when keepSlash), with upper-case hex.
func appendEscaped(b []byte, s string, keepSlash bool) []byte {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c) || (keepSlash && c == '/') {
			b = append(b, c)
		} else {
			b = append(b, '%', hex[c>>4], hex[c&15])
		}
	}
	return b
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// appendTrimmed appends v without surrounding whitespace and with runs of
// spaces collapsed to one, which is what the SDK signs.
func appendTrimmed(b []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b = append(b, v[i])
	}
	return b
}
