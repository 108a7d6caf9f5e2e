// Package spec is the on-disk form of the stripped service models in
// model/data, shared by the generator (which writes it) and the model
// package (which reads it), plus the Java-to-RE2 pattern translation both use.
package spec

import "encoding/json"

// File is one data/<service>.json. Maps are written with sorted keys;
// structure members stay a list so the model's member order survives.
type File struct {
	Botocore   string               `json:"botocore"` // botocore version the file came from
	Metadata   Metadata             `json:"metadata"`
	Operations map[string]Operation `json:"operations"`
	Shapes     map[string]Shape     `json:"shapes"`
}

type Metadata struct {
	APIVersion     string `json:"apiVersion,omitempty"`
	EndpointPrefix string `json:"endpointPrefix,omitempty"`
	JSONVersion    string `json:"jsonVersion,omitempty"`
	Protocol       string `json:"protocol,omitempty"`
	ServiceID      string `json:"serviceId,omitempty"`
	SigningName    string `json:"signingName,omitempty"`
	TargetPrefix   string `json:"targetPrefix,omitempty"`
	XMLNamespace   string `json:"xmlNamespace,omitempty"`
}

type Operation struct {
	Method        string   `json:"method"`
	RequestURI    string   `json:"requestUri"`
	ResponseCode  int      `json:"responseCode,omitempty"`
	Input         string   `json:"input,omitempty"`
	Output        string   `json:"output,omitempty"`
	ResultWrapper string   `json:"resultWrapper,omitempty"`
	Errors        []string `json:"errors,omitempty"`
	Auth          []string `json:"auth,omitempty"`     // smithy auth scheme ids, e.g. smithy.api#noAuth
	AuthType      string   `json:"authtype,omitempty"` // legacy botocore field, "none" for unsigned calls
	Deprecated    bool     `json:"deprecated,omitempty"`
}

// Ref is a reference to a shape together with the serialization traits the
// referring member (or list/map element) adds.
type Ref struct {
	Shape            string `json:"shape"`
	Location         string `json:"location,omitempty"`
	LocationName     string `json:"locationName,omitempty"`
	QueryName        string `json:"queryName,omitempty"`
	XMLNamespace     string `json:"xmlNamespace,omitempty"`
	Flattened        bool   `json:"flattened,omitempty"`
	IdempotencyToken bool   `json:"idempotencyToken,omitempty"`
	HostLabel        bool   `json:"hostLabel,omitempty"`
	Deprecated       bool   `json:"deprecated,omitempty"`
}

type Member struct {
	Name string `json:"name"`
	Ref
}

type Shape struct {
	Type            string       `json:"type"`
	Members         []Member     `json:"members,omitempty"`
	Required        []string     `json:"required,omitempty"`
	Member          *Ref         `json:"member,omitempty"`
	Key             *Ref         `json:"key,omitempty"`
	Value           *Ref         `json:"value,omitempty"`
	Min             json.Number  `json:"min,omitempty"`
	Max             json.Number  `json:"max,omitempty"`
	Pattern         string       `json:"pattern,omitempty"`
	Enum            []string     `json:"enum,omitempty"`
	Sensitive       bool         `json:"sensitive,omitempty"`
	TimestampFormat string       `json:"timestampFormat,omitempty"`
	Flattened       bool         `json:"flattened,omitempty"`
	Document        bool         `json:"document,omitempty"`
	Union           bool         `json:"union,omitempty"`
	Exception       bool         `json:"exception,omitempty"`
	Fault           bool         `json:"fault,omitempty"`
	Error           *ErrorTraits `json:"error,omitempty"`
	Deprecated      bool         `json:"deprecated,omitempty"`
}

type ErrorTraits struct {
	Code           string `json:"code,omitempty"`
	HTTPStatusCode int    `json:"httpStatusCode,omitempty"`
	SenderFault    bool   `json:"senderFault,omitempty"`
}
