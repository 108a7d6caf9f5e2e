package policy

import (
	"errors"
	"reflect"
	"testing"
)

// parseErrorCases are documents IAM refuses, with IAM's message. Sources for
// the wordings: IAM API answers quoted in public issue threads
// (hashicorp/terraform-provider-aws#10419 "Policy document should not specify
// a principal.", terraform#10057 "The policy failed legacy parsing" for
// "allow", cfn-lint#1376 for the Sid message, aws-samples/
// aws-iam-access-key-auto-rotation#26 for "Invalid principal in policy",
// localstack#6644 "Has prohibited field Resource.", garnaat/kappa#111 for the
// colon message, ministryofjustice/modernisation-platform-environments#590 for
// the ARN format message) and the grammar in the IAM User Guide
// (reference_policies_grammar.html).
var parseErrorCases = []struct {
	name string
	kind Kind
	doc  string
	want string
}{
	{"not JSON", Identity, `{"Version":"2012-10-17",`, msgSyntax},
	{"empty", Identity, ``, msgSyntax},
	{"JSON null", Identity, `null`, msgSyntax},
	{"an array", Identity, `[{"Effect":"Allow","Action":"*","Resource":"*"}]`, msgSyntax},
	{"trailing data", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}} {}`, msgSyntax},
	{"duplicate top-level key", Identity, `{"Version":"2012-10-17","Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, msgSyntax},
	{"duplicate Effect", Identity, `{"Statement":{"Effect":"Allow","Effect":"Deny","Action":"*","Resource":"*"}}`, msgSyntax},
	{"duplicate condition operator", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"},"Bool":{"aws:SecureTransport":"false"}}}}`, msgSyntax},
	{"unknown top-level element", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"},"Condition":{}}`, msgSyntax},
	{"lower-case element name", Identity, `{"Version":"2012-10-17","statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, msgSyntax},
	{"unknown statement element", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Actions":"s3:*"}}`, msgSyntax},
	{"unknown Version", Identity, `{"Version":"2012-10-18","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, msgSyntax},
	{"Version not a string", Identity, `{"Version":2012,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, msgSyntax},
	{"Id not a string", Identity, `{"Id":1,"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, msgSyntax},
	{"no Statement", Identity, `{"Version":"2012-10-17"}`, msgSyntax},
	{"empty Statement array", Identity, `{"Version":"2012-10-17","Statement":[]}`, msgSyntax},
	{"Statement a string", Identity, `{"Version":"2012-10-17","Statement":"allow all"}`, msgSyntax},
	{"statement not an object", Identity, `{"Version":"2012-10-17","Statement":["x"]}`, msgSyntax},
	{"no Effect", Identity, `{"Statement":{"Action":"*","Resource":"*"}}`, msgSyntax},
	{"Effect neither Allow nor Deny", Identity, `{"Statement":{"Effect":"Permit","Action":"*","Resource":"*"}}`, msgSyntax},
	{"Effect a boolean", Identity, `{"Statement":{"Effect":true,"Action":"*","Resource":"*"}}`, msgSyntax},
	{"Action and NotAction", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","NotAction":"iam:*","Resource":"*"}}`, msgSyntax},
	{"Resource and NotResource", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*","NotResource":"arn:aws:s3:::b"}}`, msgSyntax},
	{"Principal and NotPrincipal", Resource, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"*","NotPrincipal":{"AWS":"111122223333"}}}`, msgSyntax},
	{"Action a number", Identity, `{"Statement":{"Effect":"Allow","Action":3,"Resource":"*"}}`, msgSyntax},
	{"Action an object", Identity, `{"Statement":{"Effect":"Allow","Action":{"Ref":"x"},"Resource":"*"}}`, msgSyntax},
	{"Resource array with a number", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":["*",1]}}`, msgSyntax},
	{"Sid a number", Identity, `{"Statement":{"Sid":1,"Effect":"Allow","Action":"*","Resource":"*"}}`, msgSyntax},
	{"Condition not an object", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":"x"}}`, msgSyntax},
	{"condition without operator", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"servicecatalog:accountLevel":"self"}}}`, msgSyntax},
	{"unknown condition operator", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"a"}}}}`, msgSyntax},
	{"NullIfExists", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NullIfExists":{"aws:username":"true"}}}}`, msgSyntax},
	{"unknown set qualifier", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"ForSomeValues:StringLike":{"aws:TagKeys":"a"}}}}`, msgSyntax},
	{"condition value an object", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":{"a":"b"}}}}}`, msgSyntax},
	{"condition value null", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":null}}}}`, msgSyntax},
	{"numeric value not a number", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"ten"}}}}`, msgSyntax},
	{"IP value not a CIDR", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"203.0.113.0/33"}}}}`, msgSyntax},
	{"binary value not base64", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"BinaryEquals":{"k":"not base64!"}}}}`, msgSyntax},
	{"Principal a bare ARN", Resource, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":"arn:aws:iam::111122223333:root"}}`, msgSyntax},
	{"Principal unknown type", Resource, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"User":"bob"}}}`, msgSyntax},
	{"Principal empty", Resource, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{}}}`, msgSyntax},
	{"Principal empty list", Resource, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":[]}}}`, msgSyntax},
	{"deeply nested JSON", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"k":` + deepArray(40) + `}}}}`, msgSyntax},

	// Legacy parsing comes after syntax.
	{"lower-case Effect", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, msgLegacy},
	{"upper-case Effect", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"DENY","Action":"*","Resource":"*"}}`, msgLegacy},
	{"date not a date", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"next tuesday"}}}}`, msgLegacy},
	{"date month 13", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"2024-13-01T00:00:00Z"}}}}`, msgLegacy},

	{"Sid with a hyphen", Identity, `{"Statement":{"Sid":"autogenerated-id","Effect":"Allow","Action":"*","Resource":"*"}}`, msgSidFormat},
	{"Sid with a space", Identity, `{"Statement":{"Sid":"Space Space","Effect":"Allow","Action":"*","Resource":"*"}}`, msgSidFormat},
	{"Sid with an underscore", Identity, `{"Statement":{"Sid":"some_policy_doc","Effect":"Allow","Action":"*","Resource":"*"}}`, msgSidFormat},
	{"duplicate Sid", Identity, `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"A","Effect":"Deny","Action":"iam:*","Resource":"*"}]}`, msgSidUnique},
	{"duplicate Sid in a trust policy", Resource, `{"Statement":[{"Sid":"A","Effect":"Allow","Action":"sts:AssumeRole","Principal":"*"},{"Sid":"A","Effect":"Allow","Action":"sts:TagSession","Principal":"*"}]}`, msgSidUnique},

	{"no Action", Identity, `{"Statement":{"Effect":"Allow","Resource":"*"}}`, msgNoActions},
	{"empty Action", Identity, `{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, msgNoActions},

	{"resource not an ARN", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"s3-bucket-ukcloud-replica20220511075839843300000001"}}`,
		`Resource s3-bucket-ukcloud-replica20220511075839843300000001 must be in ARN format or "*".`},
	{"resource with an unknown partition", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:amazon:s3:::bucket"}}`,
		`Partition "amazon" is not valid for resource "arn:amazon:s3:::bucket".`},
	{"resource with only a partition", Identity, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws"}}`, msgVendorRegex},

	{"action without vendor", Identity, `{"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}`, msgVendor},
	{"action with two colons", Identity, `{"Statement":{"Effect":"Allow","Action":"arn:aws:codebuild:*","Resource":"*"}}`, msgOneColon},
	{"vendor with a space", Identity, `{"Statement":{"Effect":"Allow","Action":"s 3:GetObject","Resource":"*"}}`, "Vendor s 3 is not valid"},
	{"empty vendor", Identity, `{"Statement":{"Effect":"Allow","Action":":GetObject","Resource":"*"}}`, "Vendor  is not valid"},
	{"NotAction without vendor", Identity, `{"Statement":{"Effect":"Allow","NotAction":"iam","Resource":"*"}}`, msgVendor},

	{"identity policy with a Principal", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/dummy"},"Action":"s3:*","Resource":"arn:aws:s3:::dummy-bucket/*"}}`, msgPrincipalNotAllowed},
	{"identity policy with a NotPrincipal", Identity, `{"Statement":{"Effect":"Deny","NotPrincipal":"*","Action":"s3:*","Resource":"*"}}`, msgPrincipalNotAllowed},
	{"identity policy without Resource", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*"}}`, msgNoResources},
	{"identity policy with an empty Resource", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":[]}}`, msgNoResources},

	{"trust policy without Principal", Resource, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}`, msgMissingPrincipal},
	{"trust policy with Resource", Resource, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","Resource":"*"}}`, msgResourceProhibited},
	{"trust policy with NotResource", Resource, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole","NotResource":"arn:aws:s3:::b"}}`, msgResourceProhibited},
	{"principal role name, not ARN", Resource, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"Orchestration_Role"}}}`,
		`Invalid principal in policy: "AWS":"Orchestration_Role"`},
	{"principal with a wildcard", Resource, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::111122223333:role/*"}}}`,
		`Invalid principal in policy: "AWS":"arn:aws:iam::111122223333:role/*"`},
	{"principal account of 11 digits", Resource, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"11112222333"}}}`,
		`Invalid principal in policy: "AWS":"11112222333"`},
	{"principal S3 origin access identity", Resource, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"AWS":"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1"}}}`,
		`Invalid principal in policy: "AWS":"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1"`},
	{"principal service not a host name", Resource, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"Service":"ec2"}}}`,
		`Invalid principal in policy: "Service":"ec2"`},
	{"principal federated not a provider", Resource, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRoleWithSAML","Principal":{"Federated":"arn:aws:iam::111122223333:role/x"}}}`,
		`Invalid principal in policy: "Federated":"arn:aws:iam::111122223333:role/x"`},
	{"principal canonical user in a role trust policy", Resource, `{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{"CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}}}`,
		`Invalid principal in policy: "CanonicalUser":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"`},
}

func deepArray(n int) string {
	s := `"x"`
	for i := 0; i < n; i++ {
		s = "[" + s + "]"
	}
	return s
}

func TestParseErrors(t *testing.T) {
	for _, c := range parseErrorCases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse(c.doc, c.kind)
			var pe *Error
			if !errors.As(err, &pe) {
				t.Fatalf("Parse = %v, %v; want *Error %q", d, err, c.want)
			}
			if pe.Message != c.want || err.Error() != c.want {
				t.Errorf("message %q, want %q", pe.Message, c.want)
			}
		})
	}
}

// validDocuments are accepted; they also seed FuzzParse.
var validDocuments = []struct {
	name string
	kind Kind
	doc  string
}{
	{"single statement object", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`},
	{"no Version (2008-10-17 by default)", Identity, `{"Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":["*"]}]}`},
	{"Version 2008-10-17 with Id", Identity, `{"Version":"2008-10-17","Id":"Admin_Policy","Statement":[{"Sid":"1","Effect":"Deny","NotAction":["iam:*","sts:*"],"NotResource":"arn:aws:iam::*:user/admin"}]}`},
	{"empty Sid", Identity, `{"Statement":[{"Sid":"","Effect":"Allow","Action":"s3:*","Resource":"*"},{"Sid":"","Effect":"Allow","Action":"iam:*","Resource":"*"}]}`},
	{"null entries are skipped", Identity, `{"Statement":{"Effect":"Allow","Action":["s3:GetObject",null],"Resource":["arn:aws:s3:::b/*",null]}}`},
	{"vendor wildcard and dotted vendor", Identity, `{"Statement":{"Effect":"Allow","Action":["*:Get*","a4b.x:List*","execute-api:Invoke"],"Resource":"*"}}`},
	{"every operator", Identity, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::b/${aws:username}/*","Condition":{
		"StringEquals":{"aws:username":"a"},"StringNotEquals":{"aws:username":"b"},"StringEqualsIgnoreCase":{"aws:username":"A"},"StringNotEqualsIgnoreCase":{"aws:username":"B"},
		"StringLike":{"s3:prefix":"a/*"},"StringNotLike":{"s3:prefix":"b/*"},"NumericEquals":{"s3:max-keys":1},"NumericNotEquals":{"s3:max-keys":2},
		"NumericLessThan":{"s3:max-keys":"3"},"NumericLessThanEquals":{"s3:max-keys":"3"},"NumericGreaterThan":{"s3:max-keys":"0"},"NumericGreaterThanEquals":{"s3:max-keys":"1"},
		"DateEquals":{"aws:CurrentTime":"2024-01-01T00:00:00Z"},"DateNotEquals":{"aws:CurrentTime":"2024-01-02"},"DateLessThan":{"aws:CurrentTime":"2030"},"DateLessThanEquals":{"aws:CurrentTime":"2030-01"},
		"DateGreaterThan":{"aws:EpochTime":"1700000000"},"DateGreaterThanEquals":{"aws:CurrentTime":"2020-01-01T00:00+02:00"},"Bool":{"aws:SecureTransport":true},"BinaryEquals":{"k:b":"QmluYXJ5"},
		"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8::/32"]},"NotIpAddress":{"aws:SourceIp":"192.0.2.1"},"ArnEquals":{"aws:SourceArn":"arn:aws:sns:*:*:t"},"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:*:t*"},
		"ArnNotEquals":{"aws:SourceArn":"arn:aws:sns:*:*:u"},"ArnNotLike":{"aws:SourceArn":"arn:aws:sns:*:*:u*"},"Null":{"aws:TokenIssueTime":"true"},
		"ForAnyValue:StringLike":{"aws:TagKeys":["a*"]},"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]},"StringLikeIfExists":{"ec2:InstanceType":"t2.*"},
		"ForAllValues:NumericLessThanIfExists":{"k:n":"9"},"DateLessThanIfExists":{"aws:CurrentTime":"2030-01-01T00:00:00.123Z"}}}}`},
	{"empty condition block", Identity, `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{}}}`},
	{"trust policy for Identity Center", Resource, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/AWSSSO_0123456789abcdef_DO_NOT_DELETE"},"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}]}`},
	{"trust policy for services and accounts", Resource, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","sso.amazonaws.com"]},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::444455556666:root","arn:aws:iam::444455556666:role/path/Deploy","arn:aws:sts::444455556666:assumed-role/Deploy/ci","arn:aws:iam::444455556666:user/bob"]},"Action":"sts:AssumeRole","Condition":{"Bool":{"aws:MultiFactorAuthPresent":"true"}}}]}`},
	{"trust policy for web identity", Resource, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":["accounts.google.com","arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC"]},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"oidc.eks.us-east-1.amazonaws.com/id/ABC:aud":"sts.amazonaws.com"}}}}`},
	{"trust policy with NotPrincipal and Sid with spaces", Resource, `{"Statement":{"Sid":"Deny all but Bob","Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/Bob","arn:aws:iam::444455556666:root"]},"Action":"sts:AssumeRole"}}`},
	{"anyone", Resource, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`},
}

func TestParseValid(t *testing.T) {
	for _, c := range validDocuments {
		if _, err := Parse(c.doc, c.kind); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}

func TestParseKeepsDocumentAsWritten(t *testing.T) {
	d := mustParse(t, `{"Version":"2012-10-17","Id":"x","Statement":[
		{"Sid":"One","Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/*"],"Condition":{"StringEquals":{"aws:username":["a","b"]},"Bool":{"aws:SecureTransport":true}}},
		{"Effect":"Deny","NotAction":["iam:*"],"NotResource":"*"}]}`, Identity)
	if d.Version != "2012-10-17" || d.ID != "x" || len(d.Statements) != 2 {
		t.Fatalf("document = %+v", d)
	}
	s := d.Statements[0]
	if s.Sid != "One" || s.Effect != "Allow" || !reflect.DeepEqual(s.Action, []string{"s3:GetObject"}) || s.NotAction != nil ||
		!reflect.DeepEqual(s.Resource, []string{"arn:aws:s3:::b/*"}) || s.Principal != nil {
		t.Errorf("statement 0 = %+v", s)
	}
	wantCond := []Condition{{"StringEquals", "aws:username", []string{"a", "b"}}, {"Bool", "aws:SecureTransport", []string{"true"}}}
	if !reflect.DeepEqual(s.Condition, wantCond) {
		t.Errorf("conditions = %+v, want %+v", s.Condition, wantCond)
	}
	s = d.Statements[1]
	if s.Effect != "Deny" || s.Action != nil || !reflect.DeepEqual(s.NotAction, []string{"iam:*"}) || !reflect.DeepEqual(s.NotResource, []string{"*"}) {
		t.Errorf("statement 1 = %+v", s)
	}

	tp := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`, Resource)
	if !reflect.DeepEqual(tp.Statements[0].Principal, map[string][]string{"AWS": {"*"}}) || tp.Version != "" {
		t.Errorf("trust policy = %+v", tp)
	}
}

func TestCheckManagedVersion(t *testing.T) {
	// CreatePolicy answers this for a document without Version 2012-10-17
	// (Meteor-Community-Packages/Meteor-CollectionFS#630).
	old := mustParse(t, `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, Identity)
	var pe *Error
	if err := old.CheckManagedVersion(); !errors.As(err, &pe) || pe.Message != msgManagedVersion {
		t.Errorf("CheckManagedVersion = %v, want %q", err, msgManagedVersion)
	}
	current := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`, Identity)
	if err := current.CheckManagedVersion(); err != nil {
		t.Errorf("CheckManagedVersion = %v", err)
	}
}
