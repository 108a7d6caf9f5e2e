package policy

import (
	"sort"
	"strings"
	"testing"
)

func TestManagedCatalogue(t *testing.T) {
	all := ManagedPolicies()
	if len(all) < 1000 {
		t.Fatalf("catalogue has %d policies; the full AWS set has over a thousand", len(all))
	}
	if !sort.SliceIsSorted(all, func(i, j int) bool { return all[i].Name < all[j].Name }) {
		t.Error("ManagedPolicies is not sorted by name")
	}
	for _, p := range all {
		if _, err := Parse(p.Document, Identity); err != nil {
			t.Errorf("%s does not parse: %v", p.ARN, err)
		}
		if p.ARN != "arn:aws:iam::aws:policy"+p.Path+p.Name || !strings.HasPrefix(p.DefaultVersionID, "v") ||
			p.CreateDate.IsZero() || p.UpdateDate.Before(p.CreateDate) {
			t.Errorf("%s: inconsistent metadata %+v", p.Name, p)
		}
	}
}

func TestManagedLookup(t *testing.T) {
	// Permission sets commonly attach these; a job-function policy has its own path.
	for arn, path := range map[string]string{
		"arn:aws:iam::aws:policy/AdministratorAccess":              "/",
		"arn:aws:iam::aws:policy/PowerUserAccess":                  "/",
		"arn:aws:iam::aws:policy/ReadOnlyAccess":                   "/",
		"arn:aws:iam::aws:policy/SecurityAudit":                    "/",
		"arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess":           "/",
		"arn:aws:iam::aws:policy/AmazonEC2FullAccess":              "/",
		"arn:aws:iam::aws:policy/job-function/ViewOnlyAccess":      "/job-function/",
		"arn:aws:iam::aws:policy/job-function/Billing":             "/job-function/",
		"arn:aws:iam::aws:policy/job-function/SystemAdministrator": "/job-function/",
	} {
		p, ok := Managed(arn)
		if !ok {
			t.Errorf("%s not found", arn)
			continue
		}
		if p.ARN != arn || p.Path != path {
			t.Errorf("%s: got ARN %s path %s", arn, p.ARN, p.Path)
		}
	}
	for _, arn := range []string{
		"arn:aws:iam::aws:policy/AdministratorAccessEverywhere",
		"arn:aws:iam::aws:policy/ViewOnlyAccess", // it lives under /job-function/
		"arn:aws:iam::aws:policy/administratoraccess",
		"arn:aws:iam::111122223333:policy/AdministratorAccess",
		"",
	} {
		if _, ok := Managed(arn); ok {
			t.Errorf("%q found, want not found", arn)
		}
	}
}

func TestManagedAdministratorAccess(t *testing.T) {
	p, ok := Managed("arn:aws:iam::aws:policy/AdministratorAccess")
	if !ok {
		t.Fatal("AdministratorAccess not found")
	}
	if p.Name != "AdministratorAccess" || p.DefaultVersionID != "v1" || p.CreateDate.Format("2006-01-02") != "2015-02-06" {
		t.Errorf("metadata %+v", p)
	}
	d := mustParse(t, p.Document, Identity)
	if got := d.Evaluate(&Request{Action: "s3:GetObject", Resource: "*"}); got != Allow {
		t.Errorf("AdministratorAccess on s3:GetObject *: %v", got)
	}
	// ReadOnlyAccess must not allow writes: a check that the documents are the real ones.
	ro, _ := Managed("arn:aws:iam::aws:policy/ReadOnlyAccess")
	rd := mustParse(t, ro.Document, Identity)
	if got := rd.Evaluate(&Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}); got != Allow {
		t.Errorf("ReadOnlyAccess on s3:GetObject: %v", got)
	}
	if got := rd.Evaluate(&Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::b/k"}); got != ImplicitDeny {
		t.Errorf("ReadOnlyAccess on s3:PutObject: %v", got)
	}
	pu, _ := Managed("arn:aws:iam::aws:policy/PowerUserAccess")
	pd := mustParse(t, pu.Document, Identity)
	if got := pd.Evaluate(&Request{Action: "iam:CreateUser", Resource: "*"}); got != ImplicitDeny {
		t.Errorf("PowerUserAccess on iam:CreateUser: %v", got)
	}
	if got := pd.Evaluate(&Request{Action: "ec2:RunInstances", Resource: "*"}); got != Allow {
		t.Errorf("PowerUserAccess on ec2:RunInstances: %v", got)
	}
}

func TestManagedReturnsCopies(t *testing.T) {
	p, _ := Managed("arn:aws:iam::aws:policy/AdministratorAccess")
	p.Document = "tampered"
	all := ManagedPolicies()
	all[0].Document = "tampered"
	q, _ := Managed("arn:aws:iam::aws:policy/AdministratorAccess")
	if q.Document == "tampered" || ManagedPolicies()[0].Document == "tampered" {
		t.Error("callers can change the catalogue")
	}
}
