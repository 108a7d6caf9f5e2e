package sigv4

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// credential is a parsed "AKID/date/region/service/aws4_request".
type credential struct {
	akid, date, region, service, terminator string
}

func (c credential) scope() string {
	return c.date + "/" + c.region + "/" + c.service + "/" + c.terminator
}

// auth is everything the request says about its signature, validated for form.
type auth struct {
	presigned     bool
	cred          credential
	signedHeaders []string
	signedList    string // as sent, it is part of the canonical request
	signature     string
	signedAt      time.Time
	expires       int64 // seconds, presigned only; -1 when absent
	token         string
	query         []queryPair // decoded, in wire order
}

type queryPair struct{ key, value string }

func (a *auth) queryValues(key string) []string {
	var vs []string
	for _, p := range a.query {
		if p.key == key {
			vs = append(vs, p.value)
		}
	}
	return vs
}

// single returns the only value of key; ok=false if present more than once.
func (a *auth) single(key string) (v string, present, ok bool) {
	vs := a.queryValues(key)
	switch len(vs) {
	case 0:
		return "", false, true
	case 1:
		return vs[0], true, true
	}
	return "", true, false
}

// parseRequest extracts and validates the SigV4 parameters of r, from the
// Authorization header or the presigned query.
func parseRequest(r *http.Request) (*auth, *Error) {
	query, queryOK := parseQuery(r.URL.RawQuery)
	a := &auth{query: query, expires: -1}
	authz := r.Header.Values("Authorization")
	_, presigned, _ := a.single("X-Amz-Algorithm")

	switch {
	case len(authz) == 0 && !presigned:
		return nil, &Error{Kind: Missing, Msg: msgMissing}
	case !queryOK:
		return nil, errorf(Malformed, "The query string is malformed.")
	case len(authz) > 0 && presigned:
		return nil, errorf(Malformed, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
	case len(authz) > 1:
		return nil, errorf(Malformed, "Only one Authorization header allowed.")
	}

	var credStr, rawDate string
	if presigned {
		a.presigned = true
		var e *Error
		if credStr, rawDate, e = a.parsePresignQuery(); e != nil {
			return nil, e
		}
	} else {
		p, e := parseAuthHeader(authz[0])
		if e != nil {
			return nil, e
		}
		credStr, a.signedList, a.signature = p.credential, p.signedHeaders, p.signature
		if rawDate, a.signedAt, e = headerDate(r); e != nil {
			return nil, e
		}
	}

	var ok bool
	if a.cred, ok = parseCredential(credStr); !ok {
		return nil, errorf(Malformed, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/aws4_request.")
	}
	if a.cred.terminator != scopeTerminator {
		return nil, errorf(ScopeMismatch, "Credential should be scoped with a valid terminator: 'aws4_request'.")
	}
	if a.signedHeaders, ok = parseSignedHeaders(a.signedList); !ok {
		return nil, errorf(Malformed, "SignedHeaders must be a ';'-separated, sorted list of lowercase header names that includes 'host'.")
	}
	if !isSignature(a.signature) {
		return nil, errorf(Malformed, "Signature must be 64 lowercase hex characters.")
	}
	if day := a.signedAt.Format(dateFormat); a.cred.date != day {
		return nil, errorf(ScopeMismatch, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: %q != %q, from %q.",
			a.cred.date, day, rawDate)
	}
	if e := a.parseToken(r); e != nil {
		return nil, e
	}
	return a, nil
}

// parsePresignQuery reads the X-Amz-* query parameters of a presigned URL.
func (a *auth) parsePresignQuery() (credStr, rawDate string, e *Error) {
	var alg, expires string
	for _, f := range []struct {
		key      string
		dst      *string
		required bool
	}{
		{"X-Amz-Algorithm", &alg, true},
		{"X-Amz-Credential", &credStr, true},
		{"X-Amz-Date", &rawDate, true},
		{"X-Amz-SignedHeaders", &a.signedList, true},
		{"X-Amz-Signature", &a.signature, true},
		{"X-Amz-Expires", &expires, false},
	} {
		v, present, ok := a.single(f.key)
		if !ok {
			return "", "", errorf(Malformed, "Query parameter %s given more than once.", f.key)
		}
		if f.required && !present {
			return "", "", errorf(Malformed, "AWS query-string parameters must include '%s'.", f.key)
		}
		if f.key == "X-Amz-Expires" && present && !validToken(v, 10, isDigit) {
			return "", "", errorf(Malformed, "X-Amz-Expires must be a non-negative integer.")
		}
		*f.dst = v
	}
	if alg != algorithm {
		return "", "", errorf(Malformed, "X-Amz-Algorithm only supports %q.", algorithm)
	}
	if expires != "" {
		n, _ := strconv.ParseInt(expires, 10, 64) // at most 10 digits: cannot fail
		if n > maxExpires {
			return "", "", errorf(Malformed, "X-Amz-Expires must be less than a week (in seconds) that is 604800.")
		}
		a.expires = n
	}
	t, ok := parseAmzDate(rawDate)
	if !ok {
		return "", "", errorf(Malformed, "X-Amz-Date must be in ISO-8601 basic format (YYYYMMDD'T'HHMMSS'Z').")
	}
	a.signedAt = t
	return credStr, rawDate, nil
}

// headerDate reads X-Amz-Date, or Date when X-Amz-Date is absent. Date may
// also be an HTTP date (RFC 1123); the string to sign then carries it in
// ISO-8601 basic form.
func headerDate(r *http.Request) (string, time.Time, *Error) {
	if a := r.Header["X-Amz-Date"]; len(a) > 0 {
		t, ok := parseAmzDate(a[0])
		if len(a) != 1 || !ok {
			return "", t, errorf(Malformed, "X-Amz-Date must be given once, in ISO-8601 basic format (YYYYMMDD'T'HHMMSS'Z').")
		}
		return a[0], t, nil
	}
	if d := r.Header["Date"]; len(d) > 0 {
		t, ok := parseAmzDate(d[0])
		if !ok {
			var err error
			t, err = http.ParseTime(d[0])
			ok = err == nil
		}
		if len(d) != 1 || !ok {
			return "", t, errorf(Malformed, "Date must be given once, as an HTTP date or in ISO-8601 basic format.")
		}
		return d[0], t.UTC(), nil
	}
	return "", time.Time{}, errorf(Malformed, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
}

func (a *auth) parseToken(r *http.Request) *Error {
	hdr := r.Header.Values("X-Amz-Security-Token")
	q := a.queryValues("X-Amz-Security-Token")
	if len(hdr) > 1 || len(q) > 1 {
		return errorf(Malformed, "X-Amz-Security-Token given more than once.")
	}
	switch {
	case len(hdr) == 1 && len(q) == 1 && hdr[0] != q[0]:
		return errorf(Malformed, "X-Amz-Security-Token differs between header and query.")
	case len(hdr) == 1:
		// The SDKs always sign the token; an unsigned one could be swapped in transit.
		if !contains(a.signedHeaders, "x-amz-security-token") {
			return errorf(Malformed, "Header X-Amz-Security-Token must be signed.")
		}
		a.token = hdr[0]
	case len(q) == 1:
		a.token = q[0] // the whole query is always signed
	}
	return nil
}

// parseAmzDate accepts exactly the ISO-8601 basic form the SDKs write.
// (time.Parse alone would also accept fractional seconds.)
func parseAmzDate(s string) (time.Time, bool) {
	if len(s) != len(timeFormat) {
		return time.Time{}, false
	}
	t, err := time.Parse(timeFormat, s)
	if err != nil || t.Format(timeFormat) != s {
		return time.Time{}, false
	}
	return t, true
}

// authHeader holds the three components of an Authorization header.
type authHeader struct{ credential, signedHeaders, signature string }

// parseAuthHeader parses
// "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
// Components may come in any order, with or without spaces after commas.
func parseAuthHeader(h string) (authHeader, *Error) {
	var p authHeader
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	if alg != algorithm {
		return p, errorf(Malformed, "Authorization header must use the %s algorithm.", algorithm)
	}
	seen := 0
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return p, errorf(Malformed, "Authorization header components must be key=value pairs.")
		}
		var dst *string
		var bit int
		switch k {
		case "Credential":
			dst, bit = &p.credential, 1
		case "SignedHeaders":
			dst, bit = &p.signedHeaders, 2
		case "Signature":
			dst, bit = &p.signature, 4
		default:
			return p, errorf(Malformed, "Authorization header has an unknown component.")
		}
		if seen&bit != 0 {
			return p, errorf(Malformed, "Authorization header repeats the %s component.", k)
		}
		seen |= bit
		*dst = v
	}
	for _, c := range []struct {
		bit  int
		name string
	}{{1, "Credential"}, {2, "SignedHeaders"}, {4, "Signature"}} {
		if seen&c.bit == 0 {
			return p, errorf(Malformed, "Authorization header requires '%s' parameter.", c.name)
		}
	}
	return p, nil
}

// parseCredential splits "AKID/date/region/service/terminator". The
// terminator is returned as found so the caller can classify a wrong one.
func parseCredential(s string) (credential, bool) {
	parts := strings.Split(s, "/")
	if len(parts) != 5 {
		return credential{}, false
	}
	c := credential{akid: parts[0], date: parts[1], region: parts[2], service: parts[3], terminator: parts[4]}
	ok := validToken(c.akid, 128, isKeyIDChar) &&
		len(c.date) == len(dateFormat) && validToken(c.date, 8, isDigit) &&
		validToken(c.region, 64, isScopeChar) &&
		validToken(c.service, 64, isScopeChar) &&
		c.terminator != ""
	return c, ok
}

func validToken(s string, max int, ok func(byte) bool) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isKeyIDChar matches IAM's AccessKeyId pattern [\w]+.
func isKeyIDChar(c byte) bool {
	return isDigit(c) || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_'
}

// isScopeChar covers region names and signing names ("us-east-1", "execute-api").
func isScopeChar(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'z' || c == '-' }

// parseSignedHeaders validates the SignedHeaders list: non-empty lowercase
// names, strictly sorted (so no duplicates), including host.
func parseSignedHeaders(s string) ([]string, bool) {
	names := strings.Split(s, ";")
	hasHost := false
	for i, n := range names {
		if n == "" || (i > 0 && names[i-1] >= n) {
			return nil, false
		}
		for j := 0; j < len(n); j++ {
			if c := n[j]; c <= ' ' || c >= 0x7f || c == ':' || ('A' <= c && c <= 'Z') {
				return nil, false
			}
		}
		hasHost = hasHost || n == "host"
	}
	return names, hasHost
}

func isSignature(s string) bool {
	return validToken(s, 64, func(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' }) && len(s) == 64
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// parseQuery decodes a raw query like url.ParseQuery does ('+' is a space,
// '&' separates, empty segments are skipped) but keeps the pairs in order
// and reports ok=false instead of silently dropping a bad pair (which would
// leave it unsigned yet visible to whoever parses the query later).
func parseQuery(raw string) (pairs []queryPair, ok bool) {
	ok = true
	for raw != "" {
		var seg string
		seg, raw, _ = strings.Cut(raw, "&")
		if seg == "" {
			continue
		}
		k, v, _ := strings.Cut(seg, "=")
		k, err1 := url.QueryUnescape(k)
		v, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil || strings.Contains(seg, ";") {
			ok = false
			continue
		}
		pairs = append(pairs, queryPair{k, v})
	}
	return pairs, ok
}
