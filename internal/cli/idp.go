package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
)

// The options `atrium idp create|update` take; each protocol's own become
// the source's Configuration document.
var idpOptions = []string{"type", "new-name", "metadata-url", "metadata-file", "attribute-mapping", "issuer", "client-id", "scopes",
	"email-claim", "email-domains", "mfa", "config"}

var idpSwitches = []string{"jit", "no-jit", "enable", "disable", "client-secret-stdin"}

type idpOut struct {
	SourceId, Name, Type, Mfa, Configuration string
	Enabled, JustInTime                      bool
	EmailDomains                             []string
	Endpoints                                map[string]string
	CreatedAt, UpdatedAt                     float64
}

// idpConfig builds the Configuration document from base (the stored one
// on update, secrets left out) and the protocol options given; it reports
// whether any was.
func (c *command) idpConfig(kind string, base map[string]any) (map[string]any, bool, error) {
	if raw := c.opt("config"); raw != "" {
		if strings.HasPrefix(raw, "@") {
			b, err := os.ReadFile(raw[1:])
			if err != nil {
				return nil, false, err
			}
			raw = string(b)
		}
		var doc map[string]any
		if err := json.Unmarshal([]byte(raw), &doc); err != nil {
			return nil, false, fmt.Errorf("--config: %v", err)
		}
		return doc, true, nil
	}
	doc, changed := base, false
	set := func(key string, v any) { doc[key], changed = v, true }
	switch kind {
	case "saml":
		if u := c.opt("metadata-url"); u != "" {
			delete(doc, "MetadataXML")
			set("MetadataURL", u)
		}
		if f := c.opt("metadata-file"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, false, err
			}
			delete(doc, "MetadataURL")
			set("MetadataXML", string(b))
		}
		if m := c.opt("attribute-mapping"); m != "" {
			mapping := map[string]string{}
			for pair := range strings.SplitSeq(m, ",") {
				k, v, ok := strings.Cut(pair, "=")
				if !ok || k == "" || v == "" {
					return nil, false, fmt.Errorf("--attribute-mapping: %q is not NAME=ATTRIBUTE", pair)
				}
				mapping[strings.TrimSpace(k)] = strings.TrimSpace(v)
			}
			set("AttributeMapping", mapping)
		}
	case "oidc":
		if v := c.opt("issuer"); v != "" {
			set("Issuer", v)
		}
		if v := c.opt("client-id"); v != "" {
			set("ClientID", v)
		}
		if v := c.opt("scopes"); v != "" {
			set("Scopes", splitList(v))
		}
		if v := c.opt("email-claim"); v != "" {
			set("EmailClaim", v)
		}
	}
	return doc, changed, nil
}

func splitList(s string) []string {
	var out []string
	for v := range strings.SplitSeq(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// idpCommon adds the options create and update share to in.
func (c *command) idpCommon(in map[string]any) error {
	if c.optSet("enable") && c.optSet("disable") || c.optSet("jit") && c.optSet("no-jit") {
		return errors.New("give one of --enable/--disable and of --jit/--no-jit")
	}
	switch {
	case c.optSet("enable"):
		in["Enabled"] = true
	case c.optSet("disable"):
		in["Enabled"] = false
	}
	switch {
	case c.optSet("jit"):
		in["JustInTime"] = true
	case c.optSet("no-jit"):
		in["JustInTime"] = false
	}
	if v := c.opt("mfa"); v != "" {
		in["Mfa"] = v
	}
	if c.optString["email-domains"] != nil && c.flagGiven("email-domains") {
		in["EmailDomains"] = append([]string{}, splitList(c.opt("email-domains"))...)
	}
	if c.optSet("client-secret-stdin") {
		secret, err := readPassword(c.env.Stdin)
		if err != nil {
			return errors.New("--client-secret-stdin: no secret on stdin")
		}
		in["ClientSecret"] = secret
	}
	return nil
}

// flagGiven reports whether a flag was on the command line (an empty
// --email-domains clears the list).
func (c *command) flagGiven(name string) bool {
	given := false
	c.flags.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

// createIdP adds an identity provider.
func createIdP(ctx context.Context, c *command) error {
	kind := c.opt("type")
	if kind != "saml" && kind != "oidc" {
		return errors.New("--type must be saml or oidc")
	}
	doc, _, err := c.idpConfig(kind, map[string]any{})
	if err != nil {
		return err
	}
	config, _ := json.Marshal(doc)
	in := map[string]any{"Name": c.args[0], "Type": kind, "Configuration": string(config)}
	if err := c.idpCommon(in); err != nil {
		return err
	}
	var out struct{ IdentitySource idpOut }
	if err := c.adminOut(ctx, "CreateIdentitySource", in, &out); err != nil {
		return err
	}
	return c.printIdP(out.IdentitySource, -1)
}

// updateIdP changes what the options name; protocol options are merged
// into the stored settings.
func updateIdP(ctx context.Context, c *command) error {
	var cur struct{ IdentitySource idpOut }
	if err := c.adminOut(ctx, "DescribeIdentitySource", map[string]string{"Name": c.args[0]}, &cur); err != nil {
		return err
	}
	base := map[string]any{}
	json.Unmarshal([]byte(cur.IdentitySource.Configuration), &base)
	for k := range base {
		if strings.HasSuffix(strings.ToLower(k), "secret") {
			delete(base, k) // shown masked; the server keeps the stored one
		}
	}
	doc, changed, err := c.idpConfig(cur.IdentitySource.Type, base)
	if err != nil {
		return err
	}
	in := map[string]any{"Name": c.args[0]}
	if changed {
		config, _ := json.Marshal(doc)
		in["Configuration"] = string(config)
	}
	if v := c.opt("new-name"); v != "" {
		in["NewName"] = v
	}
	if err := c.idpCommon(in); err != nil {
		return err
	}
	var out struct{ IdentitySource idpOut }
	if err := c.adminOut(ctx, "UpdateIdentitySource", in, &out); err != nil {
		return err
	}
	return c.printIdP(out.IdentitySource, -1)
}

func listIdPs(ctx context.Context, c *command) error {
	var out struct{ IdentitySources []idpOut }
	if err := c.adminOut(ctx, "ListIdentitySources", map[string]any{}, &out); err != nil {
		return err
	}
	var rows [][]string
	for _, s := range out.IdentitySources {
		rows = append(rows, []string{s.Name, s.Type, fmt.Sprint(s.Enabled), strings.Join(s.EmailDomains, ","), s.Mfa, fmt.Sprint(s.JustInTime), s.SourceId})
	}
	return c.print([]string{"Name", "Type", "Enabled", "EmailDomains", "Mfa", "JustInTime", "SourceId"}, rows)
}

func showIdP(ctx context.Context, c *command) error {
	var out struct {
		IdentitySource idpOut
		UserCount      int
	}
	if err := c.adminOut(ctx, "DescribeIdentitySource", map[string]string{"Name": c.args[0]}, &out); err != nil {
		return err
	}
	return c.printIdP(out.IdentitySource, out.UserCount)
}

func deleteIdP(ctx context.Context, c *command) error {
	return c.admin(ctx, "DeleteIdentitySource", map[string]string{"Name": c.args[0]})
}

// printIdP shows one source: its settings and the URLs its IdP needs.
func (c *command) printIdP(s idpOut, users int) error {
	v := map[string]string{"Name": s.Name, "SourceId": s.SourceId, "Type": s.Type, "Enabled": fmt.Sprint(s.Enabled),
		"EmailDomains": strings.Join(s.EmailDomains, ","), "Mfa": s.Mfa, "JustInTime": fmt.Sprint(s.JustInTime), "Configuration": s.Configuration}
	order := []string{"Name", "SourceId", "Type", "Enabled", "EmailDomains", "Mfa", "JustInTime"}
	if users >= 0 {
		v["Users"] = fmt.Sprint(users)
		order = append(order, "Users")
	}
	var keys []string
	for k, u := range s.Endpoints {
		v[k] = u
		keys = append(keys, k)
	}
	slices.Sort(keys)
	order = append(append(order, keys...), "Configuration")
	return c.printOne(v, order)
}

// setUserSource moves a user to an identity provider (--idp NAME) or back
// to the built-in directory (--builtin).
func setUserSource(ctx context.Context, c *command) error {
	idp := c.opt("idp")
	if (idp != "") == c.optSet("builtin") {
		return errors.New("give --idp NAME or --builtin")
	}
	id, err := c.userID(ctx, c.args[0])
	if err != nil {
		return err
	}
	if err := c.admin(ctx, "SetUserIdentitySource", map[string]string{"IdentityStoreId": c.storeID, "UserId": id, "SourceName": idp}); err != nil {
		return err
	}
	source := idp
	if source == "" {
		source = "(built-in directory)"
	}
	return c.printOne(map[string]string{"UserName": c.args[0], "IdentitySource": source}, []string{"UserName", "IdentitySource"})
}
