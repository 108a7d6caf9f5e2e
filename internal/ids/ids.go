// Package ids makes every identifier Atrium hands out, in AWS's formats, from
// crypto/rand: the one place that knows what an AWS id looks like.
package ids

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"strings"
	"time"
)

const (
	lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567" // AWS key ids use base32 letters
	digits     = "0123456789"
	secretSet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
)

func pick(alphabet string, n int) string {
	var b strings.Builder
	b.Grow(n)
	max := big.NewInt(int64(len(alphabet)))
	for i := 0; i < n; i++ {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand does not fail on supported platforms
		}
		b.WriteByte(alphabet[v.Int64()])
	}
	return b.String()
}

// Hex returns n random bytes as lower-case hex.
func Hex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// AccountID is a 12-digit AWS account id that does not start with 0.
func AccountID() string { return pick("123456789", 1) + pick(digits, 11) }

// OrganizationID is o- and 10 lower-case letters or digits.
func OrganizationID() string { return "o-" + pick(lowerAlnum, 10) }

// RootID is r- and 4 lower-case letters or digits.
func RootID() string { return "r-" + pick(lowerAlnum, 4) }

// OrganizationalUnitID is ou-<root suffix>-<8 chars>, as AWS ties OU ids to their root.
func OrganizationalUnitID(rootID string) string {
	return "ou-" + strings.TrimPrefix(rootID, "r-") + "-" + pick(lowerAlnum, 8)
}

// CreateAccountRequestID is car- and 32 lower-case letters or digits.
func CreateAccountRequestID() string { return "car-" + pick(lowerAlnum, 32) }

// InstanceID is ssoins- and 16 hex digits.
func InstanceID() string { return "ssoins-" + Hex(8) }

// IdentityStoreID is d- and 10 hex digits.
func IdentityStoreID() string { return "d-" + Hex(5) }

// AccessKeyID is a long-term key id: AKIA and 16 characters.
func AccessKeyID() string { return "AKIA" + pick(upperAlnum, 16) }

// TemporaryAccessKeyID is the key id of temporary (STS) credentials: ASIA and 16 characters.
func TemporaryAccessKeyID() string { return "ASIA" + pick(upperAlnum, 16) }

// RoleID is an IAM role's unique id: AROA and 17 characters.
func RoleID() string { return "AROA" + pick(upperAlnum, 17) }

// PolicyID is a managed policy's unique id: ANPA and 17 characters.
func PolicyID() string { return "ANPA" + pick(upperAlnum, 17) }

// PolicyIDOf is the policy id of a policy Atrium does not create (an AWS
// managed policy): derived from its ARN, so every node gives the same one.
func PolicyIDOf(arn string) string {
	sum := sha256.Sum256([]byte(arn))
	return "ANPA" + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// SecretAccessKey is 40 characters, as AWS's are.
func SecretAccessKey() string { return pick(secretSet, 40) }

// SessionToken is the opaque token of temporary credentials: 64 random bytes, base64.
func SessionToken() string {
	b := make([]byte, 64)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// UserCodeAlphabet is what device authorization user codes are made of:
// consonants only (RFC 8628 §6.1), so no two read alike and no word is spelt.
const UserCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

// UserCode is a device authorization's user code, XXXX-XXXX: 34 bits a
// person can read aloud and type.
func UserCode() string { return pick(UserCodeAlphabet, 4) + "-" + pick(UserCodeAlphabet, 4) }

// UUID is a random (version 4) UUID, as AWS request ids are.
func UUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// TimeUUID is a version 7 UUID: unix milliseconds first, then random bits,
// so ids made later sort later and lists by id read in creation order.
func TimeUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	ms := uint64(time.Now().UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// DirectoryResourceID is the id of a user, group or group membership in the
// identity store identityStoreID: the store's 10 hex digits, a dash and a
// UUID (9067549d82-1f7a4b6e-…), the form AWS gives them. A store id not of
// the d-<10 hex> form gives a bare UUID, which AWS's pattern also allows.
// The UUID is a TimeUUID: ids made later sort later, so new rows land at
// the end of every index keyed by id instead of on a random page of it,
// which on a large directory doubles the rate of writes.
func DirectoryResourceID(identityStoreID string) string {
	prefix, ok := strings.CutPrefix(identityStoreID, "d-")
	if !ok || len(prefix) != 10 || strings.Trim(prefix, "0123456789abcdef") != "" {
		return TimeUUID()
	}
	return prefix + "-" + TimeUUID()
}

// UserID is a new identity store user id.
func UserID(identityStoreID string) string { return DirectoryResourceID(identityStoreID) }

// GroupID is a new identity store group id.
func GroupID(identityStoreID string) string { return DirectoryResourceID(identityStoreID) }

// GroupMembershipID is a new identity store group membership id.
func GroupMembershipID(identityStoreID string) string { return DirectoryResourceID(identityStoreID) }
