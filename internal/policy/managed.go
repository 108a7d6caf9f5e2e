package policy

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"sort"
	"sync"
	"time"
)

//go:generate go run ./managed/gen -out managed/aws-managed-policies.json.gz

// The AWS managed policies, as AWS lists them (see managed/README.md for
// where they come from). Kept gzipped; read on first use only.
//
//go:embed managed/aws-managed-policies.json.gz
var managedData []byte

// ManagedPolicy is an AWS managed policy: its IAM metadata and the document
// of its default version.
type ManagedPolicy struct {
	Name, ARN, Path, DefaultVersionID, Document string
	CreateDate, UpdateDate                      time.Time
}

var managed struct {
	once   sync.Once
	sorted []ManagedPolicy // by name
	byARN  map[string]int
}

func loadManaged() {
	var cat struct {
		Policies []struct {
			Name             string    `json:"name"`
			ARN              string    `json:"arn"`
			Path             string    `json:"path"`
			DefaultVersionID string    `json:"defaultVersionId"`
			CreateDate       time.Time `json:"createDate"`
			UpdateDate       time.Time `json:"updateDate"`
			Document         string    `json:"document"`
		} `json:"policies"`
	}
	zr, err := gzip.NewReader(bytes.NewReader(managedData))
	if err != nil {
		panic("policy: embedded managed policy catalogue: " + err.Error())
	}
	if err := json.NewDecoder(zr).Decode(&cat); err != nil {
		panic("policy: embedded managed policy catalogue: " + err.Error())
	}
	managed.sorted = make([]ManagedPolicy, len(cat.Policies))
	for i, p := range cat.Policies {
		managed.sorted[i] = ManagedPolicy{
			Name: p.Name, ARN: p.ARN, Path: p.Path, DefaultVersionID: p.DefaultVersionID,
			Document: p.Document, CreateDate: p.CreateDate, UpdateDate: p.UpdateDate,
		}
	}
	sort.Slice(managed.sorted, func(i, j int) bool { return managed.sorted[i].Name < managed.sorted[j].Name })
	managed.byARN = make(map[string]int, len(managed.sorted))
	for i := range managed.sorted {
		managed.byARN[managed.sorted[i].ARN] = i
	}
}

// Managed finds an AWS managed policy by ARN, e.g.
// "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess".
func Managed(arn string) (*ManagedPolicy, bool) {
	managed.once.Do(loadManaged)
	i, ok := managed.byARN[arn]
	if !ok {
		return nil, false
	}
	p := managed.sorted[i]
	return &p, true
}

// ManagedPolicies lists every AWS managed policy, sorted by name. The slice
// is the caller's own.
func ManagedPolicies() []ManagedPolicy {
	managed.once.Do(loadManaged)
	return append([]ManagedPolicy(nil), managed.sorted...)
}
