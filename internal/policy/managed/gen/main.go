// Command gen builds the AWS managed policy catalogue
// (../aws-managed-policies.json.gz) from the copy the moto package ships
// (moto/iam/aws_managed_policies.py, Apache-2.0), which moto's maintainers
// refresh from IAM's own ListPolicies and GetPolicyVersion output. It runs
// the local python3 with moto installed (Debian: python3-moto; pip: moto):
//
//	go run ./managed/gen -out managed/aws-managed-policies.json.gz
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"
)

// catalogue is the file's shape; internal/policy reads the same fields.
type catalogue struct {
	Source   string   `json:"source"`
	Policies []policy `json:"policies"`
}

type policy struct {
	Name             string    `json:"name"`
	ARN              string    `json:"arn"`
	Path             string    `json:"path"`
	DefaultVersionID string    `json:"defaultVersionId"`
	CreateDate       time.Time `json:"createDate"`
	UpdateDate       time.Time `json:"updateDate"`
	Document         string    `json:"document"`
}

// mirrored is one entry of moto's table, keyed by policy name.
type mirrored struct {
	Path             string
	DefaultVersionId string
	CreateDate       time.Time
	UpdateDate       time.Time
	Document         json.RawMessage
}

const script = `import json, moto, moto.iam.aws_managed_policies as m
print(json.dumps({"version": moto.__version__, "data": json.loads(m.aws_managed_policies_data)}))`

func main() {
	python := flag.String("python", "python3", "a python with moto installed")
	out := flag.String("out", "aws-managed-policies.json.gz", "output file")
	flag.Parse()
	raw, err := exec.Command(*python, "-c", script).Output()
	if err != nil {
		log.Fatalf("gen: reading moto's managed policies with %s: %v", *python, err)
	}
	var src struct {
		Version string
		Data    map[string]mirrored
	}
	if err := json.Unmarshal(raw, &src); err != nil {
		log.Fatalf("gen: %v", err)
	}
	cat := catalogue{Source: "moto " + src.Version + " moto/iam/aws_managed_policies.py"}
	for name, m := range src.Data {
		if !strings.HasPrefix(m.Path, "/") || !strings.HasSuffix(m.Path, "/") || m.DefaultVersionId == "" {
			log.Fatalf("gen: %s: path %q, version %q", name, m.Path, m.DefaultVersionId)
		}
		var doc bytes.Buffer
		if err := json.Compact(&doc, m.Document); err != nil {
			log.Fatalf("gen: %s document: %v", name, err)
		}
		cat.Policies = append(cat.Policies, policy{
			Name: name, ARN: "arn:aws:iam::aws:policy" + m.Path + name, Path: m.Path, DefaultVersionID: m.DefaultVersionId,
			CreateDate: m.CreateDate.UTC(), UpdateDate: m.UpdateDate.UTC(), Document: doc.String(),
		})
	}
	sort.Slice(cat.Policies, func(i, j int) bool { return cat.Policies[i].Name < cat.Policies[j].Name })

	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	enc := json.NewEncoder(zw)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cat); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("gen: %d policies from %s, %d bytes\n", len(cat.Policies), cat.Source, buf.Len())
}
