package policy

import (
	"testing"
)

// Evaluation tests. Each policy is an example from the IAM User Guide, cited
// by page, with the requests and outcomes the page describes.

const guide = "https://docs.aws.amazon.com/IAM/latest/UserGuide/"

type evalCase struct {
	name string
	req  Request
	want Decision
}

type docCase struct {
	source string // the IAM User Guide page the policy and outcomes come from
	doc    string
	kind   Kind
	cases  []evalCase
}

func ctx(kv ...string) map[string][]string {
	m := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = append(m[kv[i]], kv[i+1])
	}
	return m
}

func mustParse(t testing.TB, doc string, kind Kind) *Document {
	t.Helper()
	d, err := Parse(doc, kind)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, doc)
	}
	return d
}

func runDocCases(t *testing.T, docs []docCase) {
	for _, dc := range docs {
		d := mustParse(t, dc.doc, dc.kind)
		for _, c := range dc.cases {
			t.Run(c.name, func(t *testing.T) {
				if got := d.Evaluate(&c.req); got != c.want {
					t.Errorf("%s (from %s): got %v, want %v", c.name, dc.source, got, c.want)
				}
			})
		}
	}
}

func TestEvaluateGuideExamples(t *testing.T) {
	runDocCases(t, []docCase{
		{
			// Carlos's identity-based policy.
			source: guide + "reference_policies_evaluation-logic.html#policies_evaluation_example",
			doc: `{"Version":"2012-10-17","Statement":[
				{"Sid":"AllowS3ListRead","Effect":"Allow","Action":["s3:GetBucketLocation","s3:GetAccountPublicAccessBlock","s3:ListAccessPoints","s3:ListAllMyBuckets"],"Resource":"arn:aws:s3:::*"},
				{"Sid":"AllowS3Self","Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::carlossalazar/*","arn:aws:s3:::carlossalazar"]},
				{"Sid":"DenyS3Logs","Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::*log*"}]}`,
			cases: []evalCase{
				{"carlos saves to the logs bucket: the deny applies", Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::carlossalazar-logs/file.txt"}, ExplicitDeny},
				{"carlos saves to his own bucket", Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::carlossalazar/file.txt"}, Allow},
				{"carlos lists all buckets", Request{Action: "s3:ListAllMyBuckets", Resource: "arn:aws:s3:::*"}, Allow},
				{"carlos reads someone else's bucket", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::other/file.txt"}, ImplicitDeny},
			},
		},
		{
			source: guide + "reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html",
			doc: `{"Version":"2012-10-17","Statement":[
				{"Sid":"AllowGetList","Effect":"Allow","Action":["iam:Get*","iam:List*"],"Resource":"*"},
				{"Sid":"DenyReports","Effect":"Deny","Action":"iam:*Report","Resource":"*"}]}`,
			cases: []evalCase{
				{"GetRole is allowed", Request{Action: "iam:GetRole", Resource: "*"}, Allow},
				{"CreatePolicy is implicitly denied", Request{Action: "iam:CreatePolicy", Resource: "*"}, ImplicitDeny},
				{"GetOrganizationsAccessReport is explicitly denied", Request{Action: "iam:GetOrganizationsAccessReport", Resource: "*"}, ExplicitDeny},
				{"GenerateCredentialReport is explicitly denied", Request{Action: "iam:GenerateCredentialReport", Resource: "*"}, ExplicitDeny},
			},
		},
		{
			// "The prefix and the action name are case insensitive. For example,
			// iam:ListAccessKeys is the same as IAM:listaccesskeys."
			source: guide + "reference_policies_elements_action.html",
			doc:    `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"*"}}`,
			cases: []evalCase{
				{"CreateAccessKey", Request{Action: "iam:CreateAccessKey", Resource: "*"}, Allow},
				{"ListAccessKeys", Request{Action: "iam:ListAccessKeys", Resource: "*"}, Allow},
				{"action case does not matter", Request{Action: "IAM:listaccesskeys", Resource: "*"}, Allow},
				{"UpdateAccessKey", Request{Action: "iam:UpdateAccessKey", Resource: "*"}, Allow},
				{"GetUser does not contain AccessKey", Request{Action: "iam:GetUser", Resource: "*"}, ImplicitDeny},
			},
		},
		{
			// The wildcard in a resource ARN spans slashes within its segment.
			source: guide + "reference_policies_elements_resource.html#reference_policies_elements_resource_wildcards",
			doc:    `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*"}}`,
			cases: []evalCase{
				{"1/test/object.jpg", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/test/object.jpg"}, Allow},
				{"1/2/test/object.jpg", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/2/test/object.jpg"}, Allow},
				{"1/2/test/3/object.jpg", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/2/test/3/object.jpg"}, Allow},
				{"1/2/3/test/4/object.jpg", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/2/3/test/4/object.jpg"}, Allow},
				{"1///test///object.jpg", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1///test///object.jpg"}, Allow},
				{"1/test/.jpg", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/test/.jpg"}, Allow},
				{"//test/object.jpg", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET//test/object.jpg"}, Allow},
				{"1/test/", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/test/"}, Allow},
				{"not 1-test/object.jpg", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1-test/object.jpg"}, ImplicitDeny},
				{"not test/object.jpg", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/test/object.jpg"}, ImplicitDeny},
				{"not 1/2/test.jpg", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/2/test.jpg"}, ImplicitDeny},
				{"resource case matters", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::doc-example-bucket/1/test/object.jpg"}, ImplicitDeny},
			},
		},
		{
			// NotAction with Allow: everything except IAM.
			source: guide + "reference_policies_elements_notaction.html",
			doc:    `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}}`,
			cases: []evalCase{
				{"s3 is allowed", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, Allow},
				{"iam is not", Request{Action: "iam:CreateUser", Resource: "*"}, ImplicitDeny},
			},
		},
		{
			// NotAction with Allow on S3 resources: ListAllMyBuckets needs the "*" resource.
			source: guide + "reference_policies_elements_notaction.html",
			doc:    `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3:DeleteBucket","Resource":"arn:aws:s3:::*"}}`,
			cases: []evalCase{
				{"GetObject on a bucket", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, Allow},
				{"DeleteBucket", Request{Action: "s3:DeleteBucket", Resource: "arn:aws:s3:::b"}, ImplicitDeny},
				{"ListAllMyBuckets on *", Request{Action: "s3:ListAllMyBuckets", Resource: "*"}, ImplicitDeny},
				{"an EC2 action does not apply to S3 resources", Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/*"}, ImplicitDeny},
			},
		},
		{
			// NotAction with Deny and BoolIfExists on MFA.
			source: guide + "reference_policies_elements_notaction.html",
			doc: `{"Version":"2012-10-17","Statement":[{"Sid":"DenyAllUsersNotUsingMFA","Effect":"Deny","NotAction":"iam:*","Resource":"*",
				"Condition":{"BoolIfExists":{"aws:MultiFactorAuthPresent":"false"}}}]}`,
			cases: []evalCase{
				{"no MFA: denied", Request{Action: "ec2:RunInstances", Resource: "*", Context: ctx("aws:MultiFactorAuthPresent", "false")}, ExplicitDeny},
				{"key absent (access keys): denied", Request{Action: "ec2:RunInstances", Resource: "*"}, ExplicitDeny},
				{"signed in with MFA: not denied, and not allowed", Request{Action: "ec2:RunInstances", Resource: "*", Context: ctx("aws:MultiFactorAuthPresent", "true")}, ImplicitDeny},
				{"IAM actions are outside the deny", Request{Action: "iam:ChangePassword", Resource: "*", Context: ctx("aws:MultiFactorAuthPresent", "false")}, ImplicitDeny},
			},
		},
	})
}

func TestEvaluateConditionOperatorExamples(t *testing.T) {
	src := guide + "reference_policies_elements_condition_operators.html"
	runDocCases(t, []docCase{
		{
			source: src + "#Conditions_String",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::111122223333:user/*",
				"Condition":{"StringEquals":{"aws:PrincipalTag/job-category":"iamuser-admin"}}}}`,
			cases: []evalCase{
				{"tagged principal", Request{Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::111122223333:user/bob", Context: ctx("aws:PrincipalTag/job-category", "iamuser-admin")}, Allow},
				{"other tag value", Request{Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::111122223333:user/bob", Context: ctx("aws:PrincipalTag/job-category", "dev")}, ImplicitDeny},
				{"untagged principal: key absent, condition false", Request{Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::111122223333:user/bob"}, ImplicitDeny},
				{"StringEquals is case-sensitive", Request{Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::111122223333:user/bob", Context: ctx("aws:PrincipalTag/job-category", "IAMUSER-ADMIN")}, ImplicitDeny},
				{"key names are case-insensitive", Request{Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::111122223333:user/bob", Context: ctx("AWS:principaltag/JOB-CATEGORY", "iamuser-admin")}, Allow},
			},
		},
		{
			// A home directory in S3 with StringLike and ${aws:username}.
			source: src + "#Conditions_String",
			doc: `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":["s3:ListAllMyBuckets","s3:GetBucketLocation"],"Resource":"arn:aws:s3:::*"},
				{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::BUCKET-NAME","Condition":{"StringLike":{"s3:prefix":["","home/","home/${aws:username}/"]}}},
				{"Effect":"Allow","Action":"s3:*","Resource":["arn:aws:s3:::BUCKET-NAME/home/${aws:username}","arn:aws:s3:::BUCKET-NAME/home/${aws:username}/*"]}]}`,
			cases: []evalCase{
				{"list own home", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::BUCKET-NAME", Context: ctx("aws:username", "alice", "s3:prefix", "home/alice/")}, Allow},
				{"list the root", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::BUCKET-NAME", Context: ctx("aws:username", "alice", "s3:prefix", "")}, Allow},
				{"list another's home", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::BUCKET-NAME", Context: ctx("aws:username", "alice", "s3:prefix", "home/bob/")}, ImplicitDeny},
				{"write own object", Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::BUCKET-NAME/home/alice/notes.txt", Context: ctx("aws:username", "alice")}, Allow},
				{"write another's object", Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::BUCKET-NAME/home/bob/notes.txt", Context: ctx("aws:username", "alice")}, ImplicitDeny},
				{"no user name: the variable matches nothing", Request{Action: "s3:PutObject", Resource: "arn:aws:s3:::BUCKET-NAME/home//notes.txt"}, ImplicitDeny},
			},
		},
		{
			source: src + "#Conditions_Numeric",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket",
				"Condition":{"NumericLessThanEquals":{"s3:max-keys":"10"}}}}`,
			cases: []evalCase{
				{"10 keys", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::example_bucket", Context: ctx("s3:max-keys", "10")}, Allow},
				{"2.5 keys", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::example_bucket", Context: ctx("s3:max-keys", "2.5")}, Allow},
				{"11 keys", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::example_bucket", Context: ctx("s3:max-keys", "11")}, ImplicitDeny},
				{"not a number", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::example_bucket", Context: ctx("s3:max-keys", "ten")}, ImplicitDeny},
				{"key absent", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::example_bucket"}, ImplicitDeny},
			},
		},
		{
			source: src + "#Conditions_Date",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:*AccessKey*","Resource":"arn:aws:iam::111122223333:user/*",
				"Condition":{"DateGreaterThan":{"aws:TokenIssueTime":"2020-01-01T00:00:01Z"}}}}`,
			cases: []evalCase{
				{"credentials issued in 2020", Request{Action: "iam:ListAccessKeys", Resource: "arn:aws:iam::111122223333:user/u", Context: ctx("aws:TokenIssueTime", "2020-06-01T12:00:00Z")}, Allow},
				{"issued before", Request{Action: "iam:ListAccessKeys", Resource: "arn:aws:iam::111122223333:user/u", Context: ctx("aws:TokenIssueTime", "2019-12-31T23:59:59Z")}, ImplicitDeny},
				{"the same instant is not greater", Request{Action: "iam:ListAccessKeys", Resource: "arn:aws:iam::111122223333:user/u", Context: ctx("aws:TokenIssueTime", "2020-01-01T00:00:01Z")}, ImplicitDeny},
				{"another zone, later instant", Request{Action: "iam:ListAccessKeys", Resource: "arn:aws:iam::111122223333:user/u", Context: ctx("aws:TokenIssueTime", "2020-01-01T01:00:00+01:00")}, ImplicitDeny},
				{"epoch seconds", Request{Action: "iam:ListAccessKeys", Resource: "arn:aws:iam::111122223333:user/u", Context: ctx("aws:TokenIssueTime", "1700000000")}, Allow},
				{"access keys: key absent", Request{Action: "iam:ListAccessKeys", Resource: "arn:aws:iam::111122223333:user/u"}, ImplicitDeny},
			},
		},
		{
			// Deny over plain HTTP; this policy allows nothing by itself.
			source: src + "#Conditions_Boolean",
			doc: `{"Version":"2012-10-17","Statement":[{"Sid":"BooleanExample","Action":"s3:*","Effect":"Deny",
				"Resource":["arn:aws:s3:::DOC-EXAMPLE-BUCKET","arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`,
			cases: []evalCase{
				{"plain HTTP is denied", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/k", Context: ctx("aws:SecureTransport", "false")}, ExplicitDeny},
				{"TLS is not denied, nor allowed", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET/k", Context: ctx("aws:SecureTransport", "true")}, ImplicitDeny},
			},
		},
		{
			source: src + "#Conditions_IPAddress",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"someservice:*","Resource":"*",
				"Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24","2001:DB8:1234:5678::/64"]}}}}`,
			cases: []evalCase{
				{"IPv4 inside", Request{Action: "someservice:Do", Resource: "*", Context: ctx("aws:SourceIp", "203.0.113.77")}, Allow},
				{"IPv4 outside", Request{Action: "someservice:Do", Resource: "*", Context: ctx("aws:SourceIp", "203.0.114.1")}, ImplicitDeny},
				{"IPv6 inside", Request{Action: "someservice:Do", Resource: "*", Context: ctx("aws:SourceIp", "2001:db8:1234:5678::1")}, Allow},
				{"IPv6 outside", Request{Action: "someservice:Do", Resource: "*", Context: ctx("aws:SourceIp", "2001:db8:1234:5679::1")}, ImplicitDeny},
				{"VPC endpoint request: key absent", Request{Action: "someservice:Do", Resource: "*"}, ImplicitDeny},
			},
		},
		{
			source: src + "#Conditions_ARN",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"SQS:SendMessage","Resource":"*",
				"Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:sns:us-east-2:123456789012:TOPIC-ID"}}}}`,
			cases: []evalCase{
				{"from the topic", Request{Action: "sqs:SendMessage", Resource: "*", Context: ctx("aws:SourceArn", "arn:aws:sns:us-east-2:123456789012:TOPIC-ID")}, Allow},
				{"from another topic", Request{Action: "sqs:SendMessage", Resource: "*", Context: ctx("aws:SourceArn", "arn:aws:sns:us-east-2:123456789012:OTHER")}, ImplicitDeny},
				{"called directly: key absent", Request{Action: "sqs:SendMessage", Resource: "*"}, ImplicitDeny},
			},
		},
		{
			// ArnLike matches part by part, where StringLike's * crosses colons.
			source: src + "#Conditions_ARN",
			doc: `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"someservice:ArnLike","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}},
				{"Effect":"Allow","Action":"someservice:StringLike","Resource":"*","Condition":{"StringLike":{"aws:SourceArn":"arn:aws:someservice:*:111122223333:finance/*"}}}]}`,
			cases: []evalCase{
				{"StringLike crosses parts", Request{Action: "someservice:StringLike", Resource: "*", Context: ctx("aws:SourceArn", "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt")}, Allow},
				{"ArnLike does not", Request{Action: "someservice:ArnLike", Resource: "*", Context: ctx("aws:SourceArn", "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt")}, ImplicitDeny},
				{"ArnLike within parts", Request{Action: "someservice:ArnLike", Resource: "*", Context: ctx("aws:SourceArn", "arn:aws:someservice:us-east-2:111122223333:finance/document.txt")}, Allow},
			},
		},
		{
			source: src + "#Conditions_IfExists",
			doc: `{"Version":"2012-10-17","Statement":[
				{"Sid":"RunInstance","Effect":"Allow","Action":"ec2:RunInstances","Resource":"*","Condition":{"StringLikeIfExists":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}},
				{"Sid":"DescribeActions","Effect":"Allow","Action":["ec2:DescribeImages","ec2:DescribeInstances","ec2:DescribeVpcs","ec2:DescribeKeyPairs","ec2:DescribeSubnets","ec2:DescribeSecurityGroups"],"Resource":"*"}]}`,
			cases: []evalCase{
				{"t2.micro instance", Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/*", Context: ctx("ec2:InstanceType", "t2.micro")}, Allow},
				{"c5.large instance", Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/*", Context: ctx("ec2:InstanceType", "c5.large")}, ImplicitDeny},
				{"the image has no instance type", Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1::image/ami-1"}, Allow},
			},
		},
		{
			// The same intent without IfExists fails for the other resources.
			source: src + "#Conditions_IfExists",
			doc: `{"Version":"2012-10-17","Statement":{"Sid":"THISPOLICYDOESNOTWORK","Effect":"Allow","Action":"ec2:RunInstances","Resource":"*",
				"Condition":{"StringLike":{"ec2:InstanceType":["t1.*","t2.*","m3.*"]}}}}`,
			cases: []evalCase{
				{"t2.micro instance", Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/*", Context: ctx("ec2:InstanceType", "t2.micro")}, Allow},
				{"the image has no instance type", Request{Action: "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1::image/ami-1"}, ImplicitDeny},
			},
		},
		{
			source: src + "#Conditions_Null",
			doc:    `{"Version":"2012-10-17","Statement":{"Action":"ec2:*","Effect":"Allow","Resource":"*","Condition":{"Null":{"aws:TokenIssueTime":"true"}}}}`,
			cases: []evalCase{
				{"long-term keys", Request{Action: "ec2:DescribeInstances", Resource: "*"}, Allow},
				{"temporary credentials", Request{Action: "ec2:DescribeInstances", Resource: "*", Context: ctx("aws:TokenIssueTime", "2024-01-01T00:00:00Z")}, ImplicitDeny},
			},
		},
		{
			// "Condition key names are not case-sensitive... StringEquals... Users
			// named JohnDoe are denied"; StringEqualsIgnoreCase matches both.
			source: guide + "reference_policies_elements_condition.html",
			doc: `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"s3:Exact","Resource":"*","Condition":{"StringEquals":{"aws:username":"johndoe"}}},
				{"Effect":"Allow","Action":"s3:Folded","Resource":"*","Condition":{"StringEqualsIgnoreCase":{"aws:username":"johndoe"}}}]}`,
			cases: []evalCase{
				{"johndoe exact", Request{Action: "s3:Exact", Resource: "*", Context: ctx("aws:username", "johndoe")}, Allow},
				{"JohnDoe exact", Request{Action: "s3:Exact", Resource: "*", Context: ctx("aws:username", "JohnDoe")}, ImplicitDeny},
				{"JohnDoe ignoring case", Request{Action: "s3:Folded", Resource: "*", Context: ctx("aws:username", "JohnDoe")}, Allow},
			},
		},
		{
			// MFA within the last hour; a request made with access keys lacks the key.
			source: guide + "reference_policies_elements_condition.html#AccessPolicyLanguage_RequestContext",
			doc: `{"Version":"2012-10-17","Statement":{"Sid":"AllowRemoveMfaOnlyIfRecentMfa","Effect":"Allow","Action":["iam:DeactivateMFADevice"],
				"Resource":"arn:aws:iam::*:user/${aws:username}","Condition":{"NumericLessThanEquals":{"aws:MultiFactorAuthAge":"3600"}}}}`,
			cases: []evalCase{
				{"MFA 10 minutes ago", Request{Action: "iam:DeactivateMFADevice", Resource: "arn:aws:iam::111122223333:user/ana", Context: ctx("aws:username", "ana", "aws:MultiFactorAuthAge", "600")}, Allow},
				{"MFA two hours ago", Request{Action: "iam:DeactivateMFADevice", Resource: "arn:aws:iam::111122223333:user/ana", Context: ctx("aws:username", "ana", "aws:MultiFactorAuthAge", "7200")}, ImplicitDeny},
				{"access keys: not present", Request{Action: "iam:DeactivateMFADevice", Resource: "arn:aws:iam::111122223333:user/ana", Context: ctx("aws:username", "ana")}, ImplicitDeny},
				{"another user's device", Request{Action: "iam:DeactivateMFADevice", Resource: "arn:aws:iam::111122223333:user/bo", Context: ctx("aws:username", "ana", "aws:MultiFactorAuthAge", "600")}, ImplicitDeny},
			},
		},
	})
}

func TestEvaluateMultiValueExamples(t *testing.T) {
	src := guide + "reference_policies_multi-value-conditions.html"
	runDocCases(t, []docCase{
		{
			source: src + "#reference_policies_multiple-conditions-eval",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{
				"StringEqualsIgnoreCase":{"aws:PrincipalTag/department":["finance","hr","legal"],"aws:PrincipalTag/role":["audit","security"]},
				"StringEquals":{"aws:PrincipalAccount":"123456789012"}}}}`,
			cases: []evalCase{
				{"both tags and the account", Request{Action: "s3:ListBucket", Resource: "*", Context: ctx("aws:PrincipalTag/department", "HR", "aws:PrincipalTag/role", "audit", "aws:PrincipalAccount", "123456789012")}, Allow},
				{"keys are ANDed: role tag missing", Request{Action: "s3:ListBucket", Resource: "*", Context: ctx("aws:PrincipalTag/department", "hr", "aws:PrincipalAccount", "123456789012")}, ImplicitDeny},
				{"operators are ANDed: other account", Request{Action: "s3:ListBucket", Resource: "*", Context: ctx("aws:PrincipalTag/department", "hr", "aws:PrincipalTag/role", "audit", "aws:PrincipalAccount", "210987654321")}, ImplicitDeny},
				{"values are ORed: legal", Request{Action: "s3:ListBucket", Resource: "*", Context: ctx("aws:PrincipalTag/department", "legal", "aws:PrincipalTag/role", "security", "aws:PrincipalAccount", "123456789012")}, Allow},
			},
		},
		{
			// "if there are multiple aws:PrincipalAccount values in a StringNotEquals
			// condition operator, the string cannot match any of the values".
			source: src + "#reference_policies_multiple-conditions-eval",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Condition":{
				"StringNotEquals":{"aws:PrincipalAccount":["111111111111","222222222222"]}}}}`,
			cases: []evalCase{
				{"first account is not denied", Request{Action: "s3:GetObject", Resource: "*", Context: ctx("aws:PrincipalAccount", "111111111111")}, ImplicitDeny},
				{"second account is not denied", Request{Action: "s3:GetObject", Resource: "*", Context: ctx("aws:PrincipalAccount", "222222222222")}, ImplicitDeny},
				{"a third account is denied", Request{Action: "s3:GetObject", Resource: "*", Context: ctx("aws:PrincipalAccount", "333333333333")}, ExplicitDeny},
				{"negated operator, key absent: true", Request{Action: "s3:GetObject", Resource: "*"}, ExplicitDeny},
			},
		},
		{
			source: src + "#reference_policies_multi-value-conditions-eval",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"dynamodb:GetItem","Resource":"arn:aws:dynamodb:*:*:table/Thread",
				"Condition":{"ForAllValues:StringEquals":{"dynamodb:Attributes":["PostDateTime","Message","Tags"]}}}}`,
			cases: []evalCase{
				{"PostDateTime and UserName: UserName has no match", Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", Context: ctx("dynamodb:Attributes", "PostDateTime", "dynamodb:Attributes", "UserName")}, ImplicitDeny},
				{"Message and Tags", Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", Context: ctx("dynamodb:Attributes", "Message", "dynamodb:Attributes", "Tags")}, Allow},
				{"no values: ForAllValues is true", Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread"}, Allow},
				{"empty set: ForAllValues is true", Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", Context: map[string][]string{"dynamodb:Attributes": {}}}, Allow},
			},
		},
		{
			source: src + "#reference_policies_multi-value-conditions-eval",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"dynamodb:PutItem","Resource":"arn:aws:dynamodb:*:*:table/Thread",
				"Condition":{"ForAnyValue:StringEquals":{"dynamodb:Attributes":["ID","PostDateTime"]}}}}`,
			cases: []evalCase{
				{"UserName, Message and PostDateTime: PostDateTime matches", Request{Action: "dynamodb:PutItem", Resource: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", Context: ctx("dynamodb:Attributes", "UserName", "dynamodb:Attributes", "Message", "dynamodb:Attributes", "PostDateTime")}, ExplicitDeny},
				{"UserName only: no match", Request{Action: "dynamodb:PutItem", Resource: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread", Context: ctx("dynamodb:Attributes", "UserName")}, ImplicitDeny},
				{"no values: ForAnyValue is false", Request{Action: "dynamodb:PutItem", Resource: "arn:aws:dynamodb:us-east-1:111122223333:table/Thread"}, ImplicitDeny},
			},
		},
		{
			// ForAllValues with a StringLike wildcard, as aws:TagKeys is used.
			source: guide + "reference_policies_condition-single-vs-multi-valued-context-keys.html",
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*",
				"Condition":{"ForAllValues:StringLike":{"aws:TagKeys":"Created*"}}}}`,
			cases: []evalCase{
				{"CreatedBy and CreatedAt", Request{Action: "ec2:CreateTags", Resource: "*", Context: ctx("aws:TagKeys", "CreatedBy", "aws:TagKeys", "CreatedAt")}, Allow},
				{"CreatedBy and Owner", Request{Action: "ec2:CreateTags", Resource: "*", Context: ctx("aws:TagKeys", "CreatedBy", "aws:TagKeys", "Owner")}, ImplicitDeny},
			},
		},
		{
			// Set qualifiers with a negated operator: ForAnyValue is true when one
			// request value matches none of the policy's; ForAllValues when all do.
			source: guide + "reference_policies_condition-logic-multiple-context-keys-or-values.html#reference_policies_multiple-conditions-negated-matching-eval",
			doc: `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"ec2:Any","Resource":"*","Condition":{"ForAnyValue:StringNotEquals":{"aws:TagKeys":["environment","cost-center"]}}},
				{"Effect":"Allow","Action":"ec2:All","Resource":"*","Condition":{"ForAllValues:StringNotEquals":{"aws:TagKeys":["environment","cost-center"]}}}]}`,
			cases: []evalCase{
				{"any: one key outside the list", Request{Action: "ec2:Any", Resource: "*", Context: ctx("aws:TagKeys", "environment", "aws:TagKeys", "owner")}, Allow},
				{"any: all keys in the list", Request{Action: "ec2:Any", Resource: "*", Context: ctx("aws:TagKeys", "environment", "aws:TagKeys", "cost-center")}, ImplicitDeny},
				{"any: no keys", Request{Action: "ec2:Any", Resource: "*"}, ImplicitDeny},
				{"all: every key outside the list", Request{Action: "ec2:All", Resource: "*", Context: ctx("aws:TagKeys", "owner", "aws:TagKeys", "team")}, Allow},
				{"all: one key in the list", Request{Action: "ec2:All", Resource: "*", Context: ctx("aws:TagKeys", "owner", "aws:TagKeys", "environment")}, ImplicitDeny},
				{"all: no keys", Request{Action: "ec2:All", Resource: "*"}, Allow},
			},
		},
	})
}

func TestEvaluatePolicyVariables(t *testing.T) {
	src := guide + "reference_policies_variables.html"
	runDocCases(t, []docCase{
		{
			source: src + "#policy-vars-default-values",
			doc:    `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::DOC-EXAMPLE-BUCKET-${aws:PrincipalTag/team, 'company-wide'}"}}`,
			cases: []evalCase{
				{"team yellow reaches its bucket", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET-yellow", Context: ctx("aws:PrincipalTag/team", "yellow")}, Allow},
				{"team yellow not another team's", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET-blue", Context: ctx("aws:PrincipalTag/team", "yellow")}, ImplicitDeny},
				{"untagged users get the default", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide"}, Allow},
				{"tagged users do not get the default", Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide", Context: ctx("aws:PrincipalTag/team", "yellow")}, ImplicitDeny},
			},
		},
		{
			// ${*}, ${?} and ${$} stand for the characters themselves.
			source: src + "#policy-vars-specialchars",
			doc: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/literal${*}star${?}q${$}"},
				{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEquals":{"s3:prefix":"${*}"}}}]}`,
			cases: []evalCase{
				{"the literal characters", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/literal*star?q$"}, Allow},
				{"StringEquals with ${*} wants a *", Request{Action: "s3:ListBucket", Resource: "*", Context: ctx("s3:prefix", "*")}, Allow},
				{"and nothing else", Request{Action: "s3:ListBucket", Resource: "*", Context: ctx("s3:prefix", "a")}, ImplicitDeny},
				{"not a wildcard", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/literalXstar?q$"}, ImplicitDeny},
			},
		},
		{
			// "If you don't include the Version element ... variables like
			// ${aws:username} are treated as literal strings".
			source: src + "#policy-vars-using-variables",
			doc:    `{"Statement":{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::mybucket/${aws:username}/*"}}`,
			cases: []evalCase{
				{"the user's folder does not match", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::mybucket/david/x", Context: ctx("aws:username", "david")}, ImplicitDeny},
				{"the literal text does", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::mybucket/${aws:username}/x", Context: ctx("aws:username", "david")}, Allow},
			},
		},
		{
			// A missing variable: StringEquals does not match, StringNotEquals does.
			source: src + "#policy-vars-no-value",
			doc: `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"s3:ExistingObjectTag/Team":"${aws:PrincipalTag/Team}"}}},
				{"Effect":"Deny","Action":"s3:PutObject","Resource":"*","Condition":{"StringNotEquals":{"s3:ExistingObjectTag/Team":"${aws:PrincipalTag/Team}"}}}]}`,
			cases: []evalCase{
				{"same team reads", Request{Action: "s3:GetObject", Resource: "*", Context: ctx("s3:ExistingObjectTag/Team", "red", "aws:PrincipalTag/Team", "red")}, Allow},
				{"no team tag: no read", Request{Action: "s3:GetObject", Resource: "*", Context: ctx("s3:ExistingObjectTag/Team", "red")}, ImplicitDeny},
				{"no team tag: the negated deny applies", Request{Action: "s3:PutObject", Resource: "*", Context: ctx("s3:ExistingObjectTag/Team", "red")}, ExplicitDeny},
				{"same team: not denied", Request{Action: "s3:PutObject", Resource: "*", Context: ctx("s3:ExistingObjectTag/Team", "red", "aws:PrincipalTag/Team", "red")}, ImplicitDeny},
			},
		},
	})
}

// TestVariableValueWildcardIsLiteral stops privilege escalation through a
// principal tag or user name that holds "*": the substituted value is text,
// never a wildcard.
func TestVariableValueWildcardIsLiteral(t *testing.T) {
	d := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:*","Resource":"arn:aws:s3:::home/${aws:PrincipalTag/team}/*"},
		{"Effect":"Allow","Action":"iam:GetUser","Resource":"*","Condition":{"StringLike":{"aws:ResourceTag/owner":"${aws:username}"}}}]}`, Identity)
	cases := []evalCase{
		{"team * does not reach team red", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::home/red/k", Context: ctx("aws:PrincipalTag/team", "*")}, ImplicitDeny},
		{"team * reaches the folder named *", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::home/*/k", Context: ctx("aws:PrincipalTag/team", "*")}, Allow},
		{"user ? does not match owner x", Request{Action: "iam:GetUser", Resource: "*", Context: ctx("aws:username", "?", "aws:ResourceTag/owner", "x")}, ImplicitDeny},
		{"a multivalued key is no variable", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::home/red/k", Context: ctx("aws:PrincipalTag/team", "red", "aws:PrincipalTag/team", "blue")}, ImplicitDeny},
	}
	for _, c := range cases {
		if got := d.Evaluate(&c.req); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestEvaluatePermissionsBoundary(t *testing.T) {
	src := guide + "access_policies_boundaries.html"
	// ShirleyRodriguez: a boundary of S3, CloudWatch and EC2 and a policy
	// allowing iam:CreateUser leave her with no permissions at all.
	boundary := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","cloudwatch:*","ec2:*"],"Resource":"*"}]}`, Identity)
	createUser := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:CreateUser","Resource":"*"}}`, Identity)
	s3Read := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`, Identity)
	// XCompanyBoundaries (Task 1 of the delegation example).
	xcompany := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"ServiceBoundaries","Effect":"Allow","Action":["s3:*","cloudwatch:*","ec2:*","dynamodb:*"],"Resource":"*"},
		{"Sid":"AllowIAMConsoleForCredentials","Effect":"Allow","Action":["iam:ListUsers","iam:GetAccountPasswordPolicy"],"Resource":"*"},
		{"Sid":"AllowManageOwnPasswordAndAccessKeys","Effect":"Allow","Action":["iam:*AccessKey*","iam:ChangePassword","iam:GetUser","iam:*ServiceSpecificCredential*","iam:*SigningCertificate*"],"Resource":["arn:aws:iam::*:user/${aws:username}"]},
		{"Sid":"DenyS3Logs","Effect":"Deny","Action":"s3:*","Resource":["arn:aws:s3:::logs","arn:aws:s3:::logs/*"]},
		{"Sid":"DenyEC2Production","Effect":"Deny","Action":"ec2:*","Resource":"arn:aws:ec2:*:*:instance/i-1234567890abcdef0"}]}`, Identity)
	admin := mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, Identity)

	cases := []struct {
		name     string
		req      Request
		identity []*Document
		boundary *Document
		want     Decision
	}{
		{"Shirley creates a user: the boundary does not allow iam", Request{Action: "iam:CreateUser", Resource: "*"}, []*Document{createUser}, boundary, ImplicitDeny},
		{"without the boundary she could", Request{Action: "iam:CreateUser", Resource: "*"}, []*Document{createUser}, nil, Allow},
		{"the boundary grants nothing by itself", Request{Action: "s3:GetObject", Resource: "*"}, []*Document{createUser}, boundary, ImplicitDeny},
		{"allowed by both", Request{Action: "s3:GetObject", Resource: "*"}, []*Document{createUser, s3Read}, boundary, Allow},
		{"admin inside XCompanyBoundaries reads a bucket", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::data/k"}, []*Document{admin}, xcompany, Allow},
		{"admin inside XCompanyBoundaries: the logs bucket is denied", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::logs/k"}, []*Document{admin}, xcompany, ExplicitDeny},
		{"admin inside XCompanyBoundaries: the production instance is denied", Request{Action: "ec2:StopInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/i-1234567890abcdef0"}, []*Document{admin}, xcompany, ExplicitDeny},
		{"a boundary deny wins even without an identity allow", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::logs/k"}, []*Document{createUser}, xcompany, ExplicitDeny},
		{"admin changes own access key", Request{Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::111122223333:user/zhang", Context: ctx("aws:username", "zhang")}, []*Document{admin}, xcompany, Allow},
		{"admin changes another's access key", Request{Action: "iam:CreateAccessKey", Resource: "arn:aws:iam::111122223333:user/maria", Context: ctx("aws:username", "zhang")}, []*Document{admin}, xcompany, ImplicitDeny},
		{"admin creates a role: outside the boundary", Request{Action: "iam:CreateRole", Resource: "*"}, []*Document{admin}, xcompany, ImplicitDeny},
		{"no identity policies", Request{Action: "s3:GetObject", Resource: "*"}, nil, nil, ImplicitDeny},
		{"an identity deny wins over another's allow", Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::carlossalazar-logs/k"}, []*Document{s3Read, mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:*","Resource":"arn:aws:s3:::*log*"}}`, Identity)}, nil, ExplicitDeny},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Evaluate(&c.req, c.identity, c.boundary); got != c.want {
				t.Errorf("%s (from %s): got %v, want %v", c.name, src, got, c.want)
			}
		})
	}
}

func TestEvaluateOperators(t *testing.T) {
	// Operators the guide lists without a worked example.
	src := guide + "reference_policies_elements_condition_operators.html"
	runDocCases(t, []docCase{{
		source: src,
		doc: `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"t:NotLike","Resource":"*","Condition":{"StringNotLike":{"s3:prefix":["secret/*","private/*"]}}},
			{"Effect":"Allow","Action":"t:NotIgnoreCase","Resource":"*","Condition":{"StringNotEqualsIgnoreCase":{"aws:username":"root"}}},
			{"Effect":"Allow","Action":"t:NumNotEquals","Resource":"*","Condition":{"NumericNotEquals":{"s3:max-keys":[5,6]}}},
			{"Effect":"Allow","Action":"t:NumGreater","Resource":"*","Condition":{"NumericGreaterThan":{"s3:max-keys":"5"},"NumericLessThan":{"s3:max-keys":"7.5"}}},
			{"Effect":"Allow","Action":"t:DateRange","Resource":"*","Condition":{"DateGreaterThanEquals":{"aws:CurrentTime":"2024-01-01"},"DateLessThanEquals":{"aws:CurrentTime":"2024-12-31T23:59:59Z"}}},
			{"Effect":"Allow","Action":"t:DateNotEquals","Resource":"*","Condition":{"DateNotEquals":{"aws:EpochTime":"1700000000"}}},
			{"Effect":"Allow","Action":"t:Binary","Resource":"*","Condition":{"BinaryEquals":{"key":"QmluYXJ5VmFsdWVJbkJhc2U2NA=="}}},
			{"Effect":"Allow","Action":"t:NotIp","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","192.0.2.1"]}}},
			{"Effect":"Allow","Action":"t:ArnNotLike","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/admin-*"}}},
			{"Effect":"Allow","Action":"t:BoolUnquoted","Resource":"*","Condition":{"Bool":{"aws:MultiFactorAuthPresent":true}}},
			{"Effect":"Allow","Action":"t:NullFalse","Resource":"*","Condition":{"Null":{"aws:ResourceTag/owner":"false"}}},
			{"Effect":"Allow","Action":"t:NotEqualsIfExists","Resource":"*","Condition":{"StringNotEqualsIfExists":{"aws:RequestedRegion":"us-east-1"}}}]}`,
		cases: []evalCase{
			{"StringNotLike outside", Request{Action: "t:NotLike", Resource: "*", Context: ctx("s3:prefix", "public/a")}, Allow},
			{"StringNotLike inside one", Request{Action: "t:NotLike", Resource: "*", Context: ctx("s3:prefix", "private/a")}, ImplicitDeny},
			{"StringNotLike absent", Request{Action: "t:NotLike", Resource: "*"}, Allow},
			{"StringNotEqualsIgnoreCase ROOT", Request{Action: "t:NotIgnoreCase", Resource: "*", Context: ctx("aws:username", "ROOT")}, ImplicitDeny},
			{"StringNotEqualsIgnoreCase ana", Request{Action: "t:NotIgnoreCase", Resource: "*", Context: ctx("aws:username", "ana")}, Allow},
			{"NumericNotEquals 6", Request{Action: "t:NumNotEquals", Resource: "*", Context: ctx("s3:max-keys", "6")}, ImplicitDeny},
			{"NumericNotEquals 7", Request{Action: "t:NumNotEquals", Resource: "*", Context: ctx("s3:max-keys", "7")}, Allow},
			{"Numeric range 7", Request{Action: "t:NumGreater", Resource: "*", Context: ctx("s3:max-keys", "7")}, Allow},
			{"Numeric range 5", Request{Action: "t:NumGreater", Resource: "*", Context: ctx("s3:max-keys", "5")}, ImplicitDeny},
			{"Numeric range 8", Request{Action: "t:NumGreater", Resource: "*", Context: ctx("s3:max-keys", "8")}, ImplicitDeny},
			{"Date range inside", Request{Action: "t:DateRange", Resource: "*", Context: ctx("aws:CurrentTime", "2024-06-15T10:00:00Z")}, Allow},
			{"Date range first instant", Request{Action: "t:DateRange", Resource: "*", Context: ctx("aws:CurrentTime", "2024-01-01T00:00:00Z")}, Allow},
			{"Date range after", Request{Action: "t:DateRange", Resource: "*", Context: ctx("aws:CurrentTime", "2025-01-01T00:00:00Z")}, ImplicitDeny},
			{"DateNotEquals other", Request{Action: "t:DateNotEquals", Resource: "*", Context: ctx("aws:EpochTime", "1700000001")}, Allow},
			{"DateNotEquals same instant as ISO", Request{Action: "t:DateNotEquals", Resource: "*", Context: ctx("aws:EpochTime", "2023-11-14T22:13:20Z")}, ImplicitDeny},
			{"BinaryEquals", Request{Action: "t:Binary", Resource: "*", Context: ctx("key", "QmluYXJ5VmFsdWVJbkJhc2U2NA==")}, Allow},
			{"BinaryEquals other bytes", Request{Action: "t:Binary", Resource: "*", Context: ctx("key", "QmluYXJ5")}, ImplicitDeny},
			{"NotIpAddress outside", Request{Action: "t:NotIp", Resource: "*", Context: ctx("aws:SourceIp", "198.51.100.7")}, Allow},
			{"NotIpAddress in 10/8", Request{Action: "t:NotIp", Resource: "*", Context: ctx("aws:SourceIp", "10.1.2.3")}, ImplicitDeny},
			{"NotIpAddress bare address is /32", Request{Action: "t:NotIp", Resource: "*", Context: ctx("aws:SourceIp", "192.0.2.1")}, ImplicitDeny},
			{"NotIpAddress next address", Request{Action: "t:NotIp", Resource: "*", Context: ctx("aws:SourceIp", "192.0.2.2")}, Allow},
			{"ArnNotLike admin role", Request{Action: "t:ArnNotLike", Resource: "*", Context: ctx("aws:PrincipalArn", "arn:aws:iam::111122223333:role/admin-ops")}, ImplicitDeny},
			{"ArnNotLike other role", Request{Action: "t:ArnNotLike", Resource: "*", Context: ctx("aws:PrincipalArn", "arn:aws:iam::111122223333:role/dev")}, Allow},
			{"Bool unquoted true", Request{Action: "t:BoolUnquoted", Resource: "*", Context: ctx("aws:MultiFactorAuthPresent", "true")}, Allow},
			{"Bool unquoted, false", Request{Action: "t:BoolUnquoted", Resource: "*", Context: ctx("aws:MultiFactorAuthPresent", "false")}, ImplicitDeny},
			{"Null false: key present", Request{Action: "t:NullFalse", Resource: "*", Context: ctx("aws:ResourceTag/owner", "ana")}, Allow},
			{"Null false: key absent", Request{Action: "t:NullFalse", Resource: "*"}, ImplicitDeny},
			{"StringNotEqualsIfExists absent", Request{Action: "t:NotEqualsIfExists", Resource: "*"}, Allow},
			{"StringNotEqualsIfExists equal", Request{Action: "t:NotEqualsIfExists", Resource: "*", Context: ctx("aws:RequestedRegion", "us-east-1")}, ImplicitDeny},
		},
	}})
}

func TestEvaluateResourceMatching(t *testing.T) {
	d := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"logs:*","Resource":"arn:aws:logs:*:*:*"},
		{"Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:us-east-?:*:queue1"},
		{"Effect":"Allow","Action":"dynamodb:*","Resource":"arn:aws:dynamodb:*:111122223333:table/*"},
		{"Effect":"Allow","Action":"ec2:*","NotResource":"arn:aws:ec2:*:*:instance/i-prod*"}]}`, Identity)
	cases := []evalCase{
		// The last part keeps its colons, so * covers them.
		{"log stream with colons", Request{Action: "logs:PutLogEvents", Resource: "arn:aws:logs:us-east-1:111122223333:log-group:g:log-stream:s"}, Allow},
		{"? matches one character", Request{Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-2:111122223333:queue1"}, Allow},
		{"? matches exactly one", Request{Action: "sqs:SendMessage", Resource: "arn:aws:sqs:us-east-12:111122223333:queue1"}, ImplicitDeny},
		{"* stays within its part", Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:999999999999:table/x:111122223333:table/y"}, ImplicitDeny},
		{"table in the account", Request{Action: "dynamodb:GetItem", Resource: "arn:aws:dynamodb:us-east-1:111122223333:table/x"}, Allow},
		{"a pattern does not match the * resource", Request{Action: "dynamodb:ListTables", Resource: "*"}, ImplicitDeny},
		{"NotResource: another instance", Request{Action: "ec2:StopInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/i-dev1"}, Allow},
		{"NotResource: a production instance", Request{Action: "ec2:StopInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/i-prod1"}, ImplicitDeny},
		{"malformed action", Request{Action: "logs", Resource: "arn:aws:logs:us-east-1:1:log-group:g"}, ImplicitDeny},
	}
	for _, c := range cases {
		if got := d.Evaluate(&c.req); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestDecisionString(t *testing.T) {
	for d, want := range map[Decision]string{ImplicitDeny: "ImplicitDeny", Allow: "Allow", ExplicitDeny: "ExplicitDeny"} {
		if d.String() != want {
			t.Errorf("%d.String() = %q, want %q", d, d.String(), want)
		}
	}
}

// TestEvaluateConcurrently: a parsed document and the catalogue are shared by
// every request the server handles at once (run with -race).
func TestEvaluateConcurrently(t *testing.T) {
	d := mustParse(t, benchPolicy, Identity)
	done := make(chan Decision)
	for i := 0; i < 8; i++ {
		go func() {
			_, _ = Managed("arn:aws:iam::aws:policy/ReadOnlyAccess")
			done <- d.Evaluate(&Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::data-x/team/k", Context: ctx("aws:PrincipalTag/team", "red")})
		}()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; got != Allow {
			t.Errorf("got %v, want Allow", got)
		}
	}
}
