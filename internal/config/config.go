// Package config reads `atrium serve`'s settings from flags, ATRIUM_*
// environment variables and an optional YAML file, in that order of
// precedence. Each setting is declared once and has all three names.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Config is everything `atrium serve` can be told.
type Config struct {
	Listen              string
	URL                 string
	Region              string
	Data                string
	Database            string
	LogFormat           string
	TLSCert             string
	TLSKey              string
	InsecureHTTP        bool
	ManagementAccountID string
	ManagementEmail     string
	// StartURLAliases are other start URLs that name this instance (e.g.
	// https://<name>.awsapps.com/start, which AWS CLI ≥ 2.35.13 insists
	// on and never contacts), without a trailing slash.
	StartURLAliases []string
}

type option struct {
	name  string // flag name; the env var is ATRIUM_<NAME>, the YAML key is the name
	usage string
	str   *string
	def   string
	flag  *bool
	list  *[]string // repeatable flag; comma-separated in the environment, a list or commas in the file
}

// listValue is a repeatable flag.
type listValue struct{ list *[]string }

func (l listValue) String() string {
	if l.list == nil {
		return ""
	}
	return strings.Join(*l.list, ",")
}

func (l listValue) Set(v string) error {
	*l.list = append(*l.list, v)
	return nil
}

// splitList reads a comma-separated list, ignoring empty items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func (c *Config) options() []option {
	return []option{
		{name: "listen", usage: "address to listen on", str: &c.Listen, def: "127.0.0.1:8080"},
		{name: "url", usage: "public base URL (default: derived from --listen)", str: &c.URL},
		{name: "region", usage: "AWS region Atrium answers as", str: &c.Region, def: "us-east-1"},
		{name: "data", usage: "data folder (the SQLite database and the bootstrap credentials live here)", str: &c.Data, def: "./atrium-data"},
		{name: "database", usage: "postgres://… URL to use PostgreSQL instead of SQLite", str: &c.Database},
		{name: "log-format", usage: "text or json", str: &c.LogFormat, def: "text"},
		{name: "tls-cert", usage: "TLS certificate file (PEM)", str: &c.TLSCert},
		{name: "tls-key", usage: "TLS private key file (PEM)", str: &c.TLSKey},
		{name: "insecure-http", usage: "allow plain HTTP on a non-loopback address", flag: &c.InsecureHTTP},
		{name: "management-account-id", usage: "12-digit id of the management account, used at first start (default: random)", str: &c.ManagementAccountID},
		{name: "management-account-email", usage: "email of the management account, used at first start", str: &c.ManagementEmail, def: "management@atrium.example.com"},
		{name: "start-url-alias", usage: "another start URL that names this instance, e.g. https://NAME.awsapps.com/start (repeatable; comma-separated in the environment)", list: &c.StartURLAliases},
	}
}

func envName(name string) string {
	return "ATRIUM_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Load parses args (without the subcommand) with getenv for the environment.
func Load(args []string, getenv func(string) string) (*Config, error) {
	c := &Config{}
	opts := c.options()
	fs := flag.NewFlagSet("atrium serve", flag.ContinueOnError)
	configFile := fs.String("config", getenv("ATRIUM_CONFIG"), "YAML file of settings (keys are the flag names)")
	for _, o := range opts {
		usage := fmt.Sprintf("%s (env %s)", o.usage, envName(o.name))
		if o.flag != nil {
			fs.BoolVar(o.flag, o.name, false, usage)
		} else if o.list != nil {
			fs.Var(listValue{o.list}, o.name, usage)
		} else {
			fs.StringVar(o.str, o.name, o.def, usage)
		}
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	file := map[string]any{}
	if *configFile != "" {
		b, err := os.ReadFile(*configFile)
		if err != nil {
			return nil, err
		}
		if err := yaml.Unmarshal(b, &file); err != nil {
			return nil, fmt.Errorf("%s: %w", *configFile, err)
		}
		known := map[string]bool{}
		for _, o := range opts {
			known[o.name] = true
		}
		var unknown []string
		for k := range file {
			if !known[k] {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return nil, fmt.Errorf("%s: unknown keys: %s", *configFile, strings.Join(unknown, ", "))
		}
	}
	for _, o := range opts {
		if set[o.name] {
			continue
		}
		raw, fromEnv := getenv(envName(o.name)), true
		if raw == "" {
			v, ok := file[o.name]
			if !ok {
				continue
			}
			if items, isList := v.([]any); isList && o.list != nil {
				for _, item := range items {
					*o.list = append(*o.list, splitList(fmt.Sprint(item))...)
				}
				continue
			}
			raw, fromEnv = fmt.Sprint(v), false
		}
		if o.list != nil {
			*o.list = splitList(raw)
			continue
		}
		if o.flag != nil {
			b, err := strconv.ParseBool(raw)
			if err != nil {
				src := envName(o.name)
				if !fromEnv {
					src = *configFile + ": " + o.name
				}
				return nil, fmt.Errorf("%s: %q is not true or false", src, raw)
			}
			*o.flag = b
		} else {
			*o.str = raw
		}
	}
	return c, c.check()
}

func (c *Config) check() error {
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return fmt.Errorf("--log-format must be text or json, not %q", c.LogFormat)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", c.Listen, err)
	}
	if !c.TLS() && !c.InsecureHTTP && !loopback(host) {
		return fmt.Errorf("refusing plain HTTP on non-loopback address %s: give --tls-cert/--tls-key, or --insecure-http if a TLS proxy stands in front", c.Listen)
	}
	if c.ManagementAccountID != "" && !isAccountID(c.ManagementAccountID) {
		return fmt.Errorf("--management-account-id must be 12 digits")
	}
	if c.Database != "" && !strings.HasPrefix(c.Database, "postgres://") && !strings.HasPrefix(c.Database, "postgresql://") {
		return fmt.Errorf("--database must be a postgres:// URL")
	}
	if c.URL == "" {
		scheme := "http"
		if c.TLS() {
			scheme = "https"
		}
		if host == "" || host == "0.0.0.0" || host == "::" {
			host = "localhost"
		}
		c.URL = scheme + "://" + net.JoinHostPort(host, port)
	}
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url %q must be an absolute http(s) URL", c.URL)
	}
	c.URL = strings.TrimSuffix(c.URL, "/")
	for i, alias := range c.StartURLAliases {
		a, err := url.Parse(alias)
		if err != nil || (a.Scheme != "http" && a.Scheme != "https") || a.Host == "" || a.User != nil || a.RawQuery != "" || a.Fragment != "" {
			return fmt.Errorf("--start-url-alias %q must be an absolute http(s) URL without a query, such as https://NAME.awsapps.com/start", alias)
		}
		c.StartURLAliases[i] = strings.TrimSuffix(alias, "/")
	}
	return nil
}

// TLS reports whether Atrium terminates TLS itself.
func (c *Config) TLS() bool { return c.TLSCert != "" }

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
