// Command gen strips botocore's service models down to what Atrium's
// protocol layer needs (no documentation, examples or unused shapes) and
// writes them to model/data/<service>.json, plus a generated test listing the
// model patterns RE2 cannot compile.
//
// Run from the model package: go generate ./internal/awsproto/model
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"go/format"
	"io"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/atrium-sso/atrium/internal/awsproto/model/internal/spec"
)

var defaultServices = "organizations,sts,iam,identitystore,sso-admin,sso-oidc,sso"

func main() {
	log.SetFlags(0)
	log.SetPrefix("gen: ")
	botocore := flag.String("botocore", "", "botocore data directory (default: the local Python install's botocore/data)")
	out := flag.String("out", "data", "output directory for <service>.json")
	testFile := flag.String("patterns-test", "patterns_gen_test.go", "generated test listing uncompilable patterns (empty to skip)")
	services := flag.String("services", defaultServices, "comma-separated botocore service names")
	flag.Parse()

	if *botocore == "" {
		dir, err := exec.Command("python3", "-c", "import botocore,os;print(os.path.dirname(botocore.__file__))").Output()
		if err != nil {
			log.Fatalf("locating botocore with python3 (use -botocore): %v", err)
		}
		*botocore = filepath.Join(strings.TrimSpace(string(dir)), "data")
	}
	if _, err := os.Stat(filepath.Join(*botocore, "sts")); err != nil {
		log.Fatalf("%s does not look like botocore's data directory: %v", *botocore, err)
	}
	version, err := botocoreVersion(*botocore)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	bad := map[string][]string{}
	for _, svc := range strings.Split(*services, ",") {
		raw, err := readModel(*botocore, svc)
		if err != nil {
			log.Fatal(err)
		}
		f, err := strip(raw, version)
		if err != nil {
			log.Fatalf("%s: %v", svc, err)
		}
		data, err := encode(f)
		if err != nil {
			log.Fatalf("%s: %v", svc, err)
		}
		if err := os.WriteFile(filepath.Join(*out, svc+".json"), data, 0o644); err != nil {
			log.Fatal(err)
		}
		for _, name := range sortedKeys(f.Shapes) {
			if p := f.Shapes[name].Pattern; p != "" {
				if _, err := spec.Compile(p); err != nil {
					bad[svc] = append(bad[svc], name)
				}
			}
		}
	}
	if *testFile != "" {
		if err := writePatternsTest(*testFile, bad); err != nil {
			log.Fatal(err)
		}
	}
}

// botocoreVersion reads __version__ from the package next to the data dir,
// so an explicit -botocore dir needs no Python.
func botocoreVersion(dataDir string) (string, error) {
	src, err := os.ReadFile(filepath.Join(dataDir, "..", "__init__.py"))
	if err != nil {
		return "", fmt.Errorf("reading botocore version: %w", err)
	}
	m := regexp.MustCompile(`(?m)^__version__\s*=\s*['"]([^'"]+)['"]`).FindSubmatch(src)
	if m == nil {
		return "", fmt.Errorf("no __version__ in botocore/__init__.py")
	}
	return string(m[1]), nil
}

// readModel loads the newest API version of a service's service-2 model.
func readModel(dataDir, svc string) (*rawModel, error) {
	versions, err := filepath.Glob(filepath.Join(dataDir, svc, "*"))
	if err != nil || len(versions) == 0 {
		return nil, fmt.Errorf("%s: no model under %s", svc, dataDir)
	}
	sort.Strings(versions)
	base := filepath.Join(versions[len(versions)-1], "service-2.json")
	var r io.Reader
	if fh, err := os.Open(base + ".gz"); err == nil {
		defer fh.Close()
		if r, err = gzip.NewReader(fh); err != nil {
			return nil, err
		}
	} else if fh, err := os.Open(base); err == nil {
		defer fh.Close()
		r = fh
	} else {
		return nil, fmt.Errorf("%s: %w", svc, err)
	}
	var m rawModel
	if err := json.NewDecoder(r).Decode(&m); err != nil {
		return nil, fmt.Errorf("%s: %w", svc, err)
	}
	return &m, nil
}

// rawModel is the subset of botocore's service-2.json that is read; any
// field not named here (documentation, examples, ...) is never loaded.
type rawModel struct {
	Metadata   spec.Metadata           `json:"metadata"`
	Operations map[string]rawOperation `json:"operations"`
	Shapes     map[string]rawShape     `json:"shapes"`
}

type rawOperation struct {
	HTTP struct {
		Method       string `json:"method"`
		RequestURI   string `json:"requestUri"`
		ResponseCode int    `json:"responseCode"`
	} `json:"http"`
	Input  *rawRef `json:"input"`
	Output *struct {
		rawRef
		ResultWrapper string `json:"resultWrapper"`
	} `json:"output"`
	Errors     []rawRef `json:"errors"`
	Auth       []string `json:"auth"`
	AuthType   string   `json:"authtype"`
	Deprecated bool     `json:"deprecated"`
}

type rawRef struct {
	Shape            string `json:"shape"`
	Location         string `json:"location"`
	LocationName     string `json:"locationName"`
	QueryName        string `json:"queryName"`
	Flattened        bool   `json:"flattened"`
	IdempotencyToken bool   `json:"idempotencyToken"`
	HostLabel        bool   `json:"hostLabel"`
	Deprecated       bool   `json:"deprecated"`
	XMLNamespace     *struct {
		URI string `json:"uri"`
	} `json:"xmlNamespace"`
}

type rawShape struct {
	Type            string            `json:"type"`
	Members         rawMembers        `json:"members"`
	Required        []string          `json:"required"`
	Member          *rawRef           `json:"member"`
	Key             *rawRef           `json:"key"`
	Value           *rawRef           `json:"value"`
	Min             json.Number       `json:"min"`
	Max             json.Number       `json:"max"`
	Pattern         string            `json:"pattern"`
	Enum            []string          `json:"enum"`
	Sensitive       bool              `json:"sensitive"`
	TimestampFormat string            `json:"timestampFormat"`
	Flattened       bool              `json:"flattened"`
	Document        bool              `json:"document"`
	Union           bool              `json:"union"`
	Exception       bool              `json:"exception"`
	Fault           bool              `json:"fault"`
	Error           *spec.ErrorTraits `json:"error"`
	Deprecated      bool              `json:"deprecated"`
}

// rawMembers keeps the order members appear in the model.
type rawMembers []spec.Member

func (ms *rawMembers) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		var r rawRef
		if err := dec.Decode(&r); err != nil {
			return err
		}
		*ms = append(*ms, spec.Member{Name: tok.(string), Ref: r.ref()})
	}
	return nil
}

func (r *rawRef) ref() spec.Ref {
	out := spec.Ref{Shape: r.Shape, Location: r.Location, LocationName: r.LocationName, QueryName: r.QueryName,
		Flattened: r.Flattened, IdempotencyToken: r.IdempotencyToken, HostLabel: r.HostLabel, Deprecated: r.Deprecated}
	if r.XMLNamespace != nil {
		out.XMLNamespace = r.XMLNamespace.URI
	}
	return out
}

func optRef(r *rawRef) *spec.Ref {
	if r == nil {
		return nil
	}
	out := r.ref()
	return &out
}

// strip converts the raw model, keeping only shapes reachable from an operation.
func strip(m *rawModel, version string) (*spec.File, error) {
	f := &spec.File{Botocore: version, Metadata: m.Metadata,
		Operations: map[string]spec.Operation{}, Shapes: map[string]spec.Shape{}}
	var queue []string
	for name, o := range m.Operations {
		op := spec.Operation{Method: o.HTTP.Method, RequestURI: o.HTTP.RequestURI, ResponseCode: o.HTTP.ResponseCode,
			Auth: o.Auth, AuthType: o.AuthType, Deprecated: o.Deprecated}
		if o.Input != nil {
			op.Input = o.Input.Shape
			queue = append(queue, op.Input)
		}
		if o.Output != nil {
			op.Output, op.ResultWrapper = o.Output.Shape, o.Output.ResultWrapper
			queue = append(queue, op.Output)
		}
		for _, e := range o.Errors {
			op.Errors = append(op.Errors, e.Shape)
			queue = append(queue, e.Shape)
		}
		f.Operations[name] = op
	}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if _, done := f.Shapes[name]; done {
			continue
		}
		s, ok := m.Shapes[name]
		if !ok {
			return nil, fmt.Errorf("shape %q is referenced but not defined", name)
		}
		out := spec.Shape{Type: s.Type, Members: s.Members, Required: s.Required,
			Member: optRef(s.Member), Key: optRef(s.Key), Value: optRef(s.Value),
			Min: s.Min, Max: s.Max, Pattern: s.Pattern, Enum: s.Enum, Sensitive: s.Sensitive,
			TimestampFormat: s.TimestampFormat, Flattened: s.Flattened, Document: s.Document, Union: s.Union,
			Exception: s.Exception, Fault: s.Fault, Error: s.Error, Deprecated: s.Deprecated}
		f.Shapes[name] = out
		for _, mem := range out.Members {
			queue = append(queue, mem.Shape)
		}
		for _, r := range []*spec.Ref{out.Member, out.Key, out.Value} {
			if r != nil {
				queue = append(queue, r.Shape)
			}
		}
	}
	return f, nil
}

// encode writes sorted, compact JSON with one operation or shape per line so
// a botocore upgrade shows up as a readable diff.
func encode(f *spec.File) ([]byte, error) {
	var b bytes.Buffer
	enc := func(v any) error {
		var buf bytes.Buffer
		e := json.NewEncoder(&buf)
		e.SetEscapeHTML(false)
		if err := e.Encode(v); err != nil {
			return err
		}
		b.Write(bytes.TrimRight(buf.Bytes(), "\n"))
		return nil
	}
	b.WriteString(`{"botocore":`)
	enc(f.Botocore)
	b.WriteString(",\n\"metadata\":")
	if err := enc(f.Metadata); err != nil {
		return nil, err
	}
	section := func(name string, keys []string, get func(string) any) error {
		fmt.Fprintf(&b, ",\n%q:{", name)
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("\n")
			enc(k)
			b.WriteByte(':')
			if err := enc(get(k)); err != nil {
				return err
			}
		}
		b.WriteString("\n}")
		return nil
	}
	if err := section("operations", sortedKeys(f.Operations), func(k string) any { return f.Operations[k] }); err != nil {
		return nil, err
	}
	if err := section("shapes", sortedKeys(f.Shapes), func(k string) any { return f.Shapes[k] }); err != nil {
		return nil, err
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func writePatternsTest(path string, bad map[string][]string) error {
	var b bytes.Buffer
	b.WriteString("// Code generated by ./gen; DO NOT EDIT.\n\npackage model\n\n")
	b.WriteString("// uncompilablePatterns lists, per service, the shapes whose model pattern\n")
	b.WriteString("// RE2 cannot express even after translation; their Shape.Pattern is nil.\n")
	b.WriteString("var uncompilablePatterns = map[string][]string{\n")
	for _, svc := range sortedKeys(bad) {
		fmt.Fprintf(&b, "\t%q: {", svc)
		for i, s := range bad[svc] {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", s)
		}
		b.WriteString("},\n")
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return err
	}
	return os.WriteFile(path, src, 0o644)
}
