package spec

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
)

// Compile turns a model pattern (Java syntax) into a Go regexp that must
// match the whole value, the way AWS services apply it.
func Compile(pattern string) (*regexp.Regexp, error) {
	re2, err := JavaToRE2(pattern)
	if err != nil {
		return nil, err
	}
	return regexp.Compile(`\A(?:` + re2 + `)\z`)
}

// posix maps Java's POSIX property names to RE2 ASCII class names.
var posix = map[string]string{
	"Lower": "lower", "Upper": "upper", "ASCII": "ascii", "Alpha": "alpha",
	"Digit": "digit", "Alnum": "alnum", "Punct": "punct", "Graph": "graph",
	"Print": "print", "Blank": "blank", "Cntrl": "cntrl", "XDigit": "xdigit",
	"Space": "space",
}

// Class bodies for Java escapes RE2 spells differently.
const (
	horizontalSpace = `\t \x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}`
	verticalSpace   = `\n\x{0B}\f\r\x{85}\x{2028}\x{2029}`
)

// JavaToRE2 rewrites the spellings that differ between java.util.regex and
// RE2 (\uXXXX, POSIX and java* properties, \h, \v, \Z, \e, octal escapes,
// possessive quantifiers, atomic groups). Constructs RE2 cannot express with
// the same meaning (lookaround, class intersection, nested classes,
// backreferences) are reported as errors rather than approximated.
func JavaToRE2(p string) (string, error) {
	var b strings.Builder
	inClass := false
	afterQuant := false // the last token was a quantifier: a following '+' makes it possessive
	for i := 0; i < len(p); i++ {
		c := p[i]
		quant := false
		switch {
		case c == '\\' && i+1 < len(p):
			n, err := escape(&b, p[i:], inClass)
			if err != nil {
				return "", err
			}
			i += n - 1
		case c == '\\':
			return "", errors.New("trailing backslash")
		case inClass:
			switch {
			case c == ']' && !classStart(p, i):
				inClass = false
			case c == '[' && !classStart(p, i):
				return "", errors.New("nested character class")
			case c == '&' && i+1 < len(p) && p[i+1] == '&':
				return "", errors.New("character class intersection")
			}
			b.WriteByte(c)
		case c == '[':
			inClass = true
			b.WriteByte(c)
		case c == '(' && strings.HasPrefix(p[i:], "(?>"):
			b.WriteString("(?:") // atomic group: same matches for a whole-value test
			i += 2
		case c == '(' && (strings.HasPrefix(p[i:], "(?=") || strings.HasPrefix(p[i:], "(?!") ||
			strings.HasPrefix(p[i:], "(?<=") || strings.HasPrefix(p[i:], "(?<!")):
			return "", errors.New("lookaround")
		case c == '+' && afterQuant:
			// possessive quantifier: drop the '+'; without backtracking
			// control the matched set is the same for these patterns
		case c == '*' || c == '+' || (c == '?' && i > 0 && p[i-1] != '('):
			quant = c != '?' || !afterQuant // '?' after a quantifier makes it lazy
			b.WriteByte(c)
		case c == '}':
			quant = true
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
		afterQuant = quant
	}
	if inClass {
		return "", errors.New("unterminated character class")
	}
	return b.String(), nil
}

// classStart reports whether p[i] is a literal ']' or '[' right after the
// opening '[' or '[^' of a class, where Java reads it as a literal.
func classStart(p string, i int) bool {
	return p[i] == ']' && (strings.HasSuffix(p[:i], "[") && !strings.HasSuffix(p[:i], `\[`) ||
		strings.HasSuffix(p[:i], "[^") && !strings.HasSuffix(p[:i], `\[^`))
}

// escape writes the RE2 form of the escape at the start of s and returns how
// many bytes of s it consumed.
func escape(b *strings.Builder, s string, inClass bool) (int, error) {
	wrap := func(body string) {
		if inClass {
			b.WriteString(body)
		} else {
			b.WriteString("[" + body + "]")
		}
	}
	switch s[1] {
	case 'u': // Java reads exactly four hex digits
		if len(s) < 6 || !isHex(s[2:6]) {
			return 0, errors.New(`bad \u escape`)
		}
		b.WriteString(`\x{` + s[2:6] + `}`)
		return 6, nil
	case 'p', 'P':
		return property(b, s, inClass)
	case 'h':
		wrap(horizontalSpace)
	case 'v':
		wrap(verticalSpace)
	case 'Z':
		b.WriteString(`\z`) // only differs on a final line terminator
	case 'e':
		b.WriteString(`\x{1B}`)
	case '0': // Java octal: \0n, \0nn, \0mnn (m <= 3)
		n := 2
		for n < len(s) && n < 5 && s[n] >= '0' && s[n] <= '7' && (n < 4 || s[2] <= '3') {
			n++
		}
		if n == 2 {
			return 0, errors.New(`bad \0 escape`)
		}
		var v int
		fmt.Sscanf(s[2:n], "%o", &v)
		fmt.Fprintf(b, `\x{%X}`, v)
		return n, nil
	case 'Q': // quoted run: RE2 has the same syntax, copy it untouched
		end := strings.Index(s, `\E`)
		if end < 0 {
			b.WriteString(s)
			return len(s), nil
		}
		b.WriteString(s[:end+2])
		return end + 2, nil
	case 'G', 'R', 'X', 'H', 'V', 'k', 'c':
		return 0, fmt.Errorf(`unsupported escape \%c`, s[1])
	default:
		if s[1] >= '1' && s[1] <= '9' {
			return 0, errors.New("backreference")
		}
		b.WriteString(s[:2])
	}
	return 2, nil
}

// property translates \p{Name} / \P{Name} / \pL.
func property(b *strings.Builder, s string, inClass bool) (int, error) {
	neg := s[1] == 'P'
	name, n := "", 0
	if len(s) > 2 && s[2] == '{' {
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return 0, errors.New("unterminated property")
		}
		name, n = s[3:end], end+1
	} else if len(s) > 2 {
		name, n = s[2:3], 3
	} else {
		return 0, errors.New("bad property escape")
	}
	if cls, ok := posix[name]; ok {
		body := "[:" + cls + ":]"
		if neg {
			body = "[:^" + cls + ":]"
		}
		if !inClass {
			body = "[" + body + "]"
		}
		b.WriteString(body)
		return n, nil
	}
	switch name {
	case "javaLowerCase":
		name = "Ll"
	case "javaUpperCase":
		name = "Lu"
	case "javaWhitespace":
		if neg {
			return 0, errors.New(`\P{javaWhitespace}`)
		}
		if inClass {
			b.WriteString(`\s\x{0B}\x{1C}-\x{1F}\p{Zl}\p{Zp}`)
		} else {
			b.WriteString(`[\s\x{0B}\x{1C}-\x{1F}\p{Zl}\p{Zp}]`)
		}
		return n, nil
	}
	for _, prefix := range []string{"Is", "general_category=", "gc=", "script=", "sc="} {
		if rest, ok := strings.CutPrefix(name, prefix); ok && known(rest) {
			name = rest
		}
	}
	if !known(name) {
		return 0, fmt.Errorf(`unsupported property \p{%s}`, name)
	}
	if neg {
		b.WriteString(`\P{` + name + `}`)
	} else {
		b.WriteString(`\p{` + name + `}`)
	}
	return n, nil
}

func known(name string) bool {
	_, cat := unicode.Categories[name]
	_, script := unicode.Scripts[name]
	return cat || script || name == "Any"
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(s[i] >= '0' && s[i] <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
