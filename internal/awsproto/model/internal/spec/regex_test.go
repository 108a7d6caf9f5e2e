package spec

import "testing"

func TestJavaToRE2(t *testing.T) {
	cases := []struct{ java, re2, err string }{
		{`[\w+=,.@-]+`, `[\w+=,.@-]+`, ""},
		{`\u002F[\u0021-\u007F]*`, `\x{002F}[\x{0021}-\x{007F}]*`, ""},
		{`[\u10000-\u10FFFF]`, `[\x{1000}0-\x{10FF}FF]`, ""}, // Java reads exactly four hex digits
		{`\p{Alpha}+\P{Digit}[\p{Punct}\p{L}]`, `[[:alpha:]]+[[:^digit:]][[:punct:]\p{L}]`, ""},
		{`\p{IsLatin}\p{javaLowerCase}\pL`, `\p{Latin}\p{Ll}\p{L}`, ""},
		{`a++b*+c?+d{2}+`, `a+b*c?d{2}`, ""},
		{`a+?b`, `a+?b`, ""},
		{`(?>ab)\Z`, `(?:ab)\z`, ""},
		{`\h\0101\e`, `[\t \x{A0}\x{1680}\x{180E}\x{2000}-\x{200A}\x{202F}\x{205F}\x{3000}]\x{41}\x{1B}`, ""},
		{`\Q(a+)\E+`, `\Q(a+)\E+`, ""},
		{`[]a]`, `[]a]`, ""},
		{`^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`, "", "lookaround"},
		{`(?<=a)b`, "", "lookaround"},
		{`[a-z[0-9]]`, "", "nested character class"},
		{`[a-z&&[^b]]`, "", "character class intersection"},
		{`(a)\1`, "", "backreference"},
		{`\p{InGreek}`, "", `unsupported property \p{InGreek}`},
		{`[abc`, "", "unterminated character class"},
	}
	for _, c := range cases {
		got, err := JavaToRE2(c.java)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("JavaToRE2(%q) error = %v, want %q", c.java, err, c.err)
			}
			continue
		}
		if err != nil || got != c.re2 {
			t.Errorf("JavaToRE2(%q) = %q, %v; want %q", c.java, got, err, c.re2)
		}
	}
}

func TestCompileWholeValue(t *testing.T) {
	cases := []struct {
		pattern, value string
		match          bool
	}{
		{`[\w+=,.@-]+`, "my-role", true},
		{`[\w+=,.@-]+`, "my role", false}, // a partial match is not enough
		{`^(\d{12})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`, "123456789012", true},
		{`^(\d{12})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`, "123456789012x", false},
		{`^(\d{12})|(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$`, "ou-abcd-abcdefgh", true},
		{`d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`, "d-1234567890", true},
		{`d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`, "xd-1234567890", false},
		{`[\p{L}\p{Z}\p{N}_.:/=+\-@]*`, "Équipe 1", true},
		{`[\u0020-\u007E]+`, "café", false},
		{`\b[0-9a-f]{8}\b-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-\b[0-9a-f]{12}\b`, "a1b2c3d4-1111-2222-3333-444455556666", true},
	}
	for _, c := range cases {
		re, err := Compile(c.pattern)
		if err != nil {
			t.Fatalf("Compile(%q): %v", c.pattern, err)
		}
		if got := re.MatchString(c.value); got != c.match {
			t.Errorf("%q matches %q = %v, want %v", c.pattern, c.value, got, c.match)
		}
	}
}
