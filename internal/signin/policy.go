package signin

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"strings"
	"unicode"
	"unicode/utf8"
)

// PolicyError is a password the password policy refuses; Message is
// written for the person choosing it.
type PolicyError struct{ Message string }

func (e *PolicyError) Error() string { return e.Message }

// AWS's password policy for the Identity Center directory: 8 to 64
// characters with a lower-case letter, an upper-case letter, a digit and one
// of these non-alphanumeric characters. Other characters are allowed but do
// not count as the symbol.
const (
	policyMinLength = 8
	policyMaxLength = 64
	policySymbols   = "~!@#$%^&*_-+=`|(){}[]:;\"'<>,.?/"
)

// checkPolicy reports why password breaks the policy (with minLength
// raised by the instance's password.min-length), or nil.
func checkPolicy(password string, minLength int) *PolicyError {
	if !utf8.ValidString(password) {
		return &PolicyError{"The password contains characters that are not valid text."}
	}
	n := utf8.RuneCountInString(password)
	if n < minLength || n > policyMaxLength {
		return &PolicyError{fmt.Sprintf("The password must be %d to %d characters long.", minLength, policyMaxLength)}
	}
	var lower, upper, digit, symbol bool
	for _, r := range password {
		switch {
		case unicode.IsControl(r):
			return &PolicyError{"The password must not contain control characters."}
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(policySymbols, r):
			symbol = true
		}
	}
	var missing []string
	if !lower {
		missing = append(missing, "a lower-case letter")
	}
	if !upper {
		missing = append(missing, "an upper-case letter")
	}
	if !digit {
		missing = append(missing, "a digit")
	}
	if !symbol {
		missing = append(missing, "one of "+policySymbols)
	}
	if len(missing) > 0 {
		return &PolicyError{"The password must contain " + joinAnd(missing) + "."}
	}
	return nil
}

func joinAnd(items []string) string {
	if len(items) == 1 {
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

// Generated one-time passwords leave out characters that are easy to
// misread when an admin passes them on (0/O, 1/l/I) and symbols that
// shells and chat tools mangle.
const (
	genLower  = "abcdefghijkmnopqrstuvwxyz"
	genUpper  = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	genDigit  = "23456789"
	genSymbol = "!#%+-=?@^_"
	// genLength gives about 95 bits of entropy.
	genLength = 16
)

// generatePassword returns a random password of max(genLength, minLength)
// characters that meets the policy.
func generatePassword(minLength int) string {
	n := max(genLength, minLength)
	all := genLower + genUpper + genDigit + genSymbol
	for {
		b := make([]byte, n)
		for i := range b {
			b[i] = all[randInt(len(all))]
		}
		if checkPolicy(string(b), minLength) == nil {
			return string(b)
		}
	}
}

func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return int(v.Int64())
}
