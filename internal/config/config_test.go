package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:8080" || c.URL != "http://127.0.0.1:8080" || c.Region != "us-east-1" || c.Data != "./atrium-data" || c.LogFormat != "text" {
		t.Fatalf("defaults = %+v", c)
	}
}

func TestPrecedenceFlagOverEnvOverFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "atrium.yaml")
	os.WriteFile(file, []byte("region: eu-west-1\ndata: /from/file\nlog-format: json\n"), 0o600)
	c, err := Load([]string{"--config", file, "--region", "ap-south-1"}, env(map[string]string{"ATRIUM_REGION": "us-west-2", "ATRIUM_DATA": "/from/env"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Region != "ap-south-1" || c.Data != "/from/env" || c.LogFormat != "json" {
		t.Fatalf("got %+v", c)
	}
}

func TestUnknownFileKeyIsAnError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "atrium.yaml")
	os.WriteFile(file, []byte("region: eu-west-1\nlisten_addr: 1.2.3.4:80\n"), 0o600)
	_, err := Load([]string{"--config", file}, env(nil))
	if err == nil || !strings.Contains(err.Error(), "listen_addr") {
		t.Fatalf("err = %v", err)
	}
}

func TestPlainHTTPOnNonLoopbackIsRefused(t *testing.T) {
	if _, err := Load([]string{"--listen", "0.0.0.0:8080"}, env(nil)); err == nil {
		t.Fatal("plain HTTP on 0.0.0.0 accepted")
	}
	c, err := Load([]string{"--listen", "0.0.0.0:8080"}, env(map[string]string{"ATRIUM_INSECURE_HTTP": "true"}))
	if err != nil || !c.InsecureHTTP || c.URL != "http://localhost:8080" {
		t.Fatalf("--insecure-http via env: %+v, %v", c, err)
	}
	if _, err := Load([]string{"--listen", "[::1]:8080"}, env(nil)); err != nil {
		t.Fatalf("IPv6 loopback refused: %v", err)
	}
}

func TestBadValues(t *testing.T) {
	for _, args := range [][]string{
		{"--log-format", "xml"},
		{"--tls-cert", "a.pem"},
		{"--management-account-id", "12345"},
		{"--database", "mysql://x"},
		{"--url", "ftp://x"},
		{"--nope"},
	} {
		if _, err := Load(args, env(nil)); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

func TestStartURLAliasesFromEachSource(t *testing.T) {
	const a, b = "https://acme.awsapps.com/start", "https://acme-eu.awsapps.com/start"
	c, err := Load([]string{"--start-url-alias", a, "--start-url-alias", b + "/"}, env(map[string]string{"ATRIUM_START_URL_ALIAS": "https://ignored.awsapps.com/start"}))
	if err != nil || strings.Join(c.StartURLAliases, " ") != a+" "+b {
		t.Fatalf("flags: %q, %v", c.StartURLAliases, err)
	}
	c, err = Load(nil, env(map[string]string{"ATRIUM_START_URL_ALIAS": a + ", " + b}))
	if err != nil || strings.Join(c.StartURLAliases, " ") != a+" "+b {
		t.Fatalf("environment: %q, %v", c.StartURLAliases, err)
	}
	dir := t.TempDir()
	list, commas := filepath.Join(dir, "list.yaml"), filepath.Join(dir, "commas.yaml")
	os.WriteFile(list, []byte("start-url-alias:\n  - "+a+"\n  - "+b+"\n"), 0o600)
	os.WriteFile(commas, []byte("start-url-alias: "+a+","+b+"\n"), 0o600)
	for _, file := range []string{list, commas} {
		c, err = Load([]string{"--config", file}, env(nil))
		if err != nil || strings.Join(c.StartURLAliases, " ") != a+" "+b {
			t.Fatalf("%s: %q, %v", file, c.StartURLAliases, err)
		}
	}
	if c, err := Load(nil, env(nil)); err != nil || len(c.StartURLAliases) != 0 {
		t.Fatalf("no alias: %q, %v", c.StartURLAliases, err)
	}
	for _, bad := range []string{"acme.awsapps.com/start", "ftp://acme.awsapps.com/start", "https://acme.awsapps.com/start?x=1", "https://u@acme.awsapps.com/start"} {
		if _, err := Load([]string{"--start-url-alias", bad}, env(nil)); err == nil {
			t.Errorf("alias %q accepted", bad)
		}
	}
}
