// Package sigv4 verifies AWS Signature Version 4 on incoming requests, the way
// AWS's own non-S3 services do, so that requests signed by the real AWS SDKs
// and CLIs (header-signed or presigned) are accepted and nothing else is.
//
// The canonicalization mirrors what aws-sdk-go-v2's signer produces; see
// canonical.go for the details that differ from a naive reading of the spec.
package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"
)

const (
	algorithm       = "AWS4-HMAC-SHA256"
	scopeTerminator = "aws4_request"
	timeFormat      = "20060102T150405Z"
	dateFormat      = "20060102"
	unsignedPayload = "UNSIGNED-PAYLOAD"
	maxExpires      = 7 * 24 * 60 * 60 // seconds; AWS caps presigned URLs at 7 days
	defaultMaxSkew  = 15 * time.Minute
)

// Lookup returns the secret access key for an access key id, or ErrUnknownKey.
type Lookup func(ctx context.Context, accessKeyID string) (secret string, err error)

// ErrUnknownKey is what a Lookup returns (possibly wrapped) for a key id it does not know.
var ErrUnknownKey = errors.New("sigv4: unknown access key")

// Verifier checks SigV4 signatures. The zero value plus Lookup is ready to use;
// a Verifier must not be copied after first use (it holds a key cache).
type Verifier struct {
	Lookup  Lookup
	Now     func() time.Time // nil = time.Now
	MaxSkew time.Duration    // 0 = 15 * time.Minute

	keys keyCache
}

// Result says who signed a request that verified.
type Result struct {
	AccessKeyID  string
	Region       string // from the credential scope
	Service      string // from the credential scope (signing name: "sts", "iam", ...)
	SessionToken string // X-Amz-Security-Token (header or query), "" if none; the caller checks it
	SignedAt     time.Time
	Presigned    bool
	// UnsignedPayload is true when the client declared X-Amz-Content-Sha256:
	// UNSIGNED-PAYLOAD, i.e. the body is NOT covered by the signature. Callers
	// that need an authenticated body (any mutating call over plain HTTP) may
	// want to refuse such requests.
	UnsignedPayload bool
}

// Kind classifies verification failures so each protocol can map them to its
// own AWS error code.
type Kind int

const (
	Missing       Kind = iota // no Authorization header and no X-Amz-Algorithm query
	Malformed                 // unparsable header/query, bad algorithm, bad scope format, no date, ...
	UnknownKey                // Lookup returned ErrUnknownKey
	BadSignature              // signature mismatch, or payload hash header disagrees with the body
	Expired                   // outside ±MaxSkew, or presigned URL past X-Amz-Expires
	ScopeMismatch             // scope date != X-Amz-Date's day, or scope not ending in aws4_request
	ExpiredToken              // temporary credentials past their expiry (set by the key's owner, not by Verify)
)

func (k Kind) String() string {
	switch k {
	case Missing:
		return "Missing"
	case Malformed:
		return "Malformed"
	case UnknownKey:
		return "UnknownKey"
	case BadSignature:
		return "BadSignature"
	case Expired:
		return "Expired"
	case ScopeMismatch:
		return "ScopeMismatch"
	case ExpiredToken:
		return "ExpiredToken"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a verification failure. Msg is safe to show the caller: it never
// contains the secret or the expected signature.
type Error struct {
	Kind Kind
	Msg  string
}

func (e *Error) Error() string { return "sigv4: " + e.Kind.String() + ": " + e.Msg }

func errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...)}
}

// Messages below follow the wording AWS services use, so SDK users see familiar text.
const (
	msgMissing      = "Request is missing Authentication Token"
	msgUnknownKey   = "The security token included in the request is invalid."
	msgBadSignature = "The request signature we calculated does not match the signature you provided. " +
		"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)

// Verify checks r (whose body has already been read into body; r.Body is not
// touched) and returns who signed it. Failures are *Error, except Lookup
// errors other than ErrUnknownKey, which are returned wrapped so the caller
// can answer 500.
func (v *Verifier) Verify(ctx context.Context, r *http.Request, body []byte) (*Result, error) {
	if r == nil || r.URL == nil {
		return nil, &Error{Kind: Missing, Msg: msgMissing}
	}
	a, e := parseRequest(r)
	if e != nil {
		return nil, e
	}
	if e := v.checkTime(a); e != nil {
		return nil, e
	}
	payloadHash, unsigned, e := payloadHash(r, a, body)
	if e != nil {
		return nil, e
	}

	if v.Lookup == nil {
		return nil, errors.New("sigv4: Verifier.Lookup is nil")
	}
	secret, err := v.Lookup(ctx, a.cred.akid)
	if errors.Is(err, ErrUnknownKey) || (err == nil && secret == "") {
		// An empty secret would let anyone sign; treat it as no key at all.
		return nil, &Error{Kind: UnknownKey, Msg: msgUnknownKey}
	}
	if err != nil {
		return nil, fmt.Errorf("sigv4: looking up access key: %w", err)
	}

	canon, e := canonicalRequest(r, a, body, payloadHash)
	if e != nil {
		return nil, e
	}
	creq := sha256.Sum256(canon)
	sts := make([]byte, 0, 128)
	sts = append(sts, algorithm+"\n"...)
	sts = append(sts, a.signedAt.Format(timeFormat)...)
	sts = append(sts, '\n')
	sts = append(sts, a.cred.scope()...)
	sts = append(sts, '\n')
	sts = hex.AppendEncode(sts, creq[:])

	ck := cacheKey{secret: sha256.Sum256([]byte(secret)), date: a.cred.date, region: a.cred.region, service: a.cred.service}
	key, cached := v.keys.get(ck)
	if !cached {
		key = deriveKey(secret, a.cred)
	}
	mac := hmac.New(sha256.New, key[:])
	mac.Write(sts)
	var want [64]byte
	hex.Encode(want[:], mac.Sum(nil))
	if !hmac.Equal(want[:], []byte(a.signature)) {
		return nil, &Error{Kind: BadSignature, Msg: msgBadSignature}
	}
	// Cache only keys that just produced a valid signature, so a caller who
	// knows a key id but not its secret cannot churn the cache.
	if !cached {
		v.keys.put(ck, key)
	}

	return &Result{
		AccessKeyID:     a.cred.akid,
		Region:          a.cred.region,
		Service:         a.cred.service,
		SessionToken:    a.token,
		SignedAt:        a.signedAt,
		Presigned:       a.presigned,
		UnsignedPayload: unsigned,
	}, nil
}

// Peek reports the credential scope's service and region without verifying
// anything. ok is false if the request carries no parsable SigV4 credential.
func Peek(r *http.Request) (service, region string, ok bool) {
	if r == nil || r.URL == nil {
		return "", "", false
	}
	var raw string
	if h := r.Header.Values("Authorization"); len(h) == 1 {
		p, e := parseAuthHeader(h[0])
		if e != nil {
			return "", "", false
		}
		raw = p.credential
	} else if len(h) == 0 {
		raw = r.URL.Query().Get("X-Amz-Credential")
	}
	c, ok := parseCredential(raw)
	if !ok {
		return "", "", false
	}
	return c.service, c.region, true
}

func (v *Verifier) checkTime(a *auth) *Error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = defaultMaxSkew
	}
	t, n := a.signedAt, now().UTC()
	if t.After(n.Add(skew)) {
		return errorf(Expired, "Signature not yet current: %s is still later than %s (%s + %d min.)",
			t.Format(timeFormat), n.Add(skew).Format(timeFormat), n.Format(timeFormat), int(skew/time.Minute))
	}
	if a.presigned && a.expires >= 0 {
		if n.After(t.Add(time.Duration(a.expires) * time.Second)) {
			return errorf(Expired, "Request has expired: signed at %s, valid for %d seconds",
				t.Format(timeFormat), a.expires)
		}
		return nil
	}
	if t.Before(n.Add(-skew)) {
		return errorf(Expired, "Signature expired: %s is now earlier than %s (%s - %d min.)",
			t.Format(timeFormat), n.Add(-skew).Format(timeFormat), n.Format(timeFormat), int(skew/time.Minute))
	}
	return nil
}

// payloadHash returns the payload hash to put in the canonical request.
// A declared X-Amz-Content-Sha256 (header, or query for presigned URLs) is
// used verbatim, but only if it is the body's real hash or UNSIGNED-PAYLOAD;
// otherwise the SDK signed the hash of the body (for presigned GETs that is
// the hash of the empty body).
func payloadHash(r *http.Request, a *auth, body []byte) (hash string, unsigned bool, e *Error) {
	declared := r.Header.Values("X-Amz-Content-Sha256")
	if len(declared) == 0 && a.presigned {
		declared = a.queryValues("X-Amz-Content-Sha256")
	}
	sum := sha256.Sum256(body)
	actual := hex.EncodeToString(sum[:])
	switch {
	case len(declared) == 0:
		return actual, false, nil
	case len(declared) > 1:
		return "", false, errorf(Malformed, "X-Amz-Content-Sha256 given more than once")
	case declared[0] == unsignedPayload:
		return unsignedPayload, true, nil
	case equalFoldASCII(declared[0], actual):
		return declared[0], false, nil
	}
	return "", false, errorf(BadSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")
}

// equalFoldASCII compares two hex strings case-insensitively (both are public).
func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func hmacSHA256(key, data []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(data)
	return m.Sum(nil)
}

// deriveKey computes the SigV4 signing key: four chained HMACs.
func deriveKey(secret string, c credential) [32]byte {
	k := hmacSHA256([]byte("AWS4"+secret), []byte(c.date))
	k = hmacSHA256(k, []byte(c.region))
	k = hmacSHA256(k, []byte(c.service))
	k = hmacSHA256(k, []byte(scopeTerminator))
	return [32]byte(k)
}

// maxCachedKeys bounds the signing-key cache. One entry per (secret, day,
// region, service) that actually signed something, so a few thousand covers
// every active key for a day with room to spare.
const maxCachedKeys = 4096

// cacheKey identifies a derived signing key. It holds a hash of the secret,
// not the secret, so a rotated secret misses instead of matching.
type cacheKey struct {
	secret                [32]byte
	date, region, service string
}

type keyCache struct {
	mu sync.RWMutex
	m  map[cacheKey][32]byte
}

func (c *keyCache) get(k cacheKey) ([32]byte, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	key, ok := c.m[k]
	return key, ok
}

func (c *keyCache) put(k cacheKey, key [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[cacheKey][32]byte)
	}
	if len(c.m) >= maxCachedKeys {
		// Evict an arbitrary entry; map iteration order is effectively random.
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[k] = key
}

func (c *keyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
