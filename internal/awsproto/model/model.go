// Package model holds the AWS API models of the services Atrium speaks
// (stripped from botocore, see ./gen) and validates request input against
// them the way AWS does: DecodeJSON / DecodeQuery / DecodeREST turn a wire
// request into a generic value, check it against the operation's input shape
// and answer with AWS's own SerializationException / ValidationException
// wording.
package model

//go:generate go run ./gen -out data -patterns-test patterns_gen_test.go

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/atrium-sso/atrium/internal/awsproto/model/internal/spec"
)

//go:embed data/*.json
var dataFS embed.FS

// Service is one AWS API model.
type Service struct {
	Name            string // botocore name: "organizations", "sso-admin", ...
	Protocol        string // "json", "query" or "rest-json"
	APIVersion      string
	TargetPrefix    string // X-Amz-Target prefix (awsJson)
	JSONVersion     string
	SigningName     string // SigV4 service name; endpointPrefix when the model has none
	EndpointPrefix  string
	XMLNamespace    string
	ServiceID       string
	BotocoreVersion string
	Operations      map[string]*Operation
	Shapes          map[string]*Shape
}

// Operation is one API action.
type Operation struct {
	Name          string
	HTTPMethod    string
	RequestURI    string
	ResponseCode  int    // 0 when the model leaves the default (200)
	Input, Output *Shape // nil when the operation has none
	ResultWrapper string // awsQuery: element wrapping the output, e.g. AssumeRoleResult
	Errors        []*Shape
	NoAuth        bool // the call is not SigV4-signed (sso portal, sso-oidc, sts web identity)
	Deprecated    bool
}

// Shape is a model shape with its constraints.
type Shape struct {
	Name string
	// Type is structure, list, map, string, integer, long, float, double,
	// boolean, timestamp, blob, or document (a structure modelled as a
	// free-form JSON document).
	Type string

	Members     map[string]*Member // structure members by name
	MemberOrder []string           // member names in model order
	Required    []string
	required    map[string]bool
	Union       bool // exactly one member may be set

	Member             *Shape // list element
	MemberLocationName string // awsQuery name of list elements ("member" when empty)
	Key, Value         *Shape // map
	KeyLocationName    string // awsQuery names of map entry parts ("key"/"value" when empty)
	ValueLocationName  string
	Flattened          bool // awsQuery: list/map elements sit directly under the member name

	Min, Max        *float64
	Pattern         *regexp.Regexp // nil if none or RE2 cannot express it (see PatternText)
	PatternText     string         // the model's (Java) pattern, as quoted in errors
	Enum            []string
	Sensitive       bool
	TimestampFormat string // "" means the protocol default
	Deprecated      bool

	Exception   bool
	Fault       bool   // a server fault (HTTP 5xx)
	ErrorCode   string // wire error code; the shape name unless the model says otherwise
	HTTPStatus  int
	SenderFault bool

	hidden bool // sensitive, or a container holding something sensitive
}

// Member is a structure member: a shape plus how it is serialized.
type Member struct {
	Name             string
	Shape            *Shape
	Location         string // restJson: "header", "headers", "querystring", "uri"; "" is the body
	LocationName     string
	QueryName        string
	XMLNamespace     string
	Flattened        bool
	IdempotencyToken bool
	HostLabel        bool
	Deprecated       bool

	path string // name as used in validation messages: first letter lowercased
}

// IsRequired reports whether the structure member name is required.
func (s *Shape) IsRequired(name string) bool { return s != nil && s.required[name] }

func (s *Shape) memberOrder() []string {
	if s == nil {
		return nil
	}
	return s.MemberOrder
}

// Operation returns the named operation or nil.
func (s *Service) Operation(name string) *Operation { return s.Operations[name] }

// Services lists the embedded service models.
func Services() []string {
	names, _ := fs.Glob(dataFS, "data/*.json")
	for i, n := range names {
		names[i] = strings.TrimSuffix(strings.TrimPrefix(n, "data/"), ".json")
	}
	slices.Sort(names)
	return names
}

var cache sync.Map // service name -> *loaded

type loaded struct {
	once sync.Once
	svc  *Service
	err  error
}

// Load returns the named service model ("organizations", "sts", ...). It is
// parsed on first use and shared afterwards; callers must not modify it.
func Load(service string) (*Service, error) {
	v, _ := cache.LoadOrStore(service, &loaded{})
	l := v.(*loaded)
	l.once.Do(func() { l.svc, l.err = parse(service) })
	return l.svc, l.err
}

// MustLoad is Load for package initialisation; it panics on error.
func MustLoad(service string) *Service {
	s, err := Load(service)
	if err != nil {
		panic(err)
	}
	return s
}

// patterns caches compiled patterns across services (tag patterns repeat).
var patterns sync.Map // Java pattern -> *regexp.Regexp (nil if uncompilable)

func compile(p string) *regexp.Regexp {
	if re, ok := patterns.Load(p); ok {
		return re.(*regexp.Regexp)
	}
	re, _ := spec.Compile(p)
	patterns.Store(p, re)
	return re
}

func parse(name string) (*Service, error) {
	raw, err := dataFS.ReadFile("data/" + name + ".json")
	if err != nil {
		return nil, fmt.Errorf("model: unknown service %q", name)
	}
	return parseData(name, raw)
}

func parseData(name string, raw []byte) (*Service, error) {
	var f spec.File
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("model: %s: %w", name, err)
	}
	md := f.Metadata
	svc := &Service{Name: name, Protocol: md.Protocol, APIVersion: md.APIVersion, TargetPrefix: md.TargetPrefix,
		JSONVersion: md.JSONVersion, SigningName: md.SigningName, EndpointPrefix: md.EndpointPrefix,
		XMLNamespace: md.XMLNamespace, ServiceID: md.ServiceID, BotocoreVersion: f.Botocore,
		Operations: make(map[string]*Operation, len(f.Operations)), Shapes: make(map[string]*Shape, len(f.Shapes))}
	if svc.SigningName == "" {
		svc.SigningName = md.EndpointPrefix // botocore's rule
	}
	for n := range f.Shapes {
		svc.Shapes[n] = &Shape{Name: n}
	}
	ref := func(r *spec.Ref) (*Shape, error) {
		s := svc.Shapes[r.Shape]
		if s == nil {
			return nil, fmt.Errorf("model: %s: unknown shape %q", name, r.Shape)
		}
		return s, nil
	}
	for n, fs := range f.Shapes {
		s := svc.Shapes[n]
		if err := s.fill(fs, ref); err != nil {
			return nil, err
		}
	}
	for n, fo := range f.Operations {
		op := &Operation{Name: n, HTTPMethod: fo.Method, RequestURI: fo.RequestURI, ResponseCode: fo.ResponseCode,
			Input: svc.Shapes[fo.Input], Output: svc.Shapes[fo.Output], ResultWrapper: fo.ResultWrapper,
			NoAuth: fo.AuthType == "none" || slices.Contains(fo.Auth, "smithy.api#noAuth"), Deprecated: fo.Deprecated}
		if (fo.Input != "" && op.Input == nil) || (fo.Output != "" && op.Output == nil) {
			return nil, fmt.Errorf("model: %s.%s: unresolved input/output shape", name, n)
		}
		for _, e := range fo.Errors {
			es := svc.Shapes[e]
			if es == nil {
				return nil, fmt.Errorf("model: %s.%s: unknown error shape %q", name, n, e)
			}
			op.Errors = append(op.Errors, es)
		}
		svc.Operations[n] = op
	}
	for _, s := range svc.Shapes {
		s.hidden = s.holdsSensitive(map[*Shape]bool{})
	}
	return svc, nil
}

func (s *Shape) fill(fs spec.Shape, ref func(*spec.Ref) (*Shape, error)) error {
	var err error
	s.Type, s.Union, s.Flattened = fs.Type, fs.Union, fs.Flattened
	if fs.Document {
		s.Type = "document"
	}
	s.Enum, s.Sensitive, s.TimestampFormat, s.Deprecated = fs.Enum, fs.Sensitive, fs.TimestampFormat, fs.Deprecated
	s.Required = fs.Required
	s.required = make(map[string]bool, len(fs.Required))
	for _, r := range fs.Required {
		s.required[r] = true
	}
	if len(fs.Members) > 0 {
		s.Members = make(map[string]*Member, len(fs.Members))
	}
	for _, m := range fs.Members {
		mem := &Member{Name: m.Name, Location: m.Location, LocationName: m.LocationName, QueryName: m.QueryName,
			XMLNamespace: m.XMLNamespace, Flattened: m.Flattened, IdempotencyToken: m.IdempotencyToken,
			HostLabel: m.HostLabel, Deprecated: m.Deprecated, path: lowerFirst(m.Name)}
		if mem.Shape, err = ref(&m.Ref); err != nil {
			return err
		}
		s.Members[m.Name] = mem
		s.MemberOrder = append(s.MemberOrder, m.Name)
	}
	if fs.Member != nil {
		if s.Member, err = ref(fs.Member); err != nil {
			return err
		}
		s.MemberLocationName = fs.Member.LocationName
	}
	if fs.Key != nil {
		if s.Key, err = ref(fs.Key); err != nil {
			return err
		}
		s.KeyLocationName = fs.Key.LocationName
	}
	if fs.Value != nil {
		if s.Value, err = ref(fs.Value); err != nil {
			return err
		}
		s.ValueLocationName = fs.Value.LocationName
	}
	if s.Min, err = number(fs.Min); err != nil {
		return err
	}
	if s.Max, err = number(fs.Max); err != nil {
		return err
	}
	if fs.Pattern != "" {
		s.PatternText, s.Pattern = fs.Pattern, compile(fs.Pattern)
	}
	s.Exception, s.Fault = fs.Exception, fs.Fault
	if s.Exception {
		s.ErrorCode, s.SenderFault, s.HTTPStatus = s.Name, !s.Fault, 400
		if s.Fault {
			s.HTTPStatus = 500
		}
		if e := fs.Error; e != nil {
			if e.Code != "" {
				s.ErrorCode = e.Code
			}
			if e.HTTPStatusCode != 0 {
				s.HTTPStatus = e.HTTPStatusCode
			}
			s.SenderFault = e.SenderFault
		}
	}
	return nil
}

func number(n json.Number) (*float64, error) {
	if n == "" {
		return nil, nil
	}
	f, err := n.Float64()
	if err != nil {
		return nil, fmt.Errorf("model: bad bound %q", n)
	}
	return &f, nil
}

// holdsSensitive reports whether a value of s may contain sensitive data,
// so error messages leave the whole value out.
func (s *Shape) holdsSensitive(seen map[*Shape]bool) bool {
	if s == nil || seen[s] {
		return false
	}
	if s.Sensitive {
		return true
	}
	seen[s] = true
	for _, m := range s.Members {
		if m.Shape.holdsSensitive(seen) {
			return true
		}
	}
	return s.Member.holdsSensitive(seen) || s.Key.holdsSensitive(seen) || s.Value.holdsSensitive(seen)
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// Parse reads a model in the data files' format that lives outside this
// package: Atrium's own admin API is modelled, and validated, the same way.
func Parse(name string, raw []byte) (*Service, error) { return parseData(name, raw) }
