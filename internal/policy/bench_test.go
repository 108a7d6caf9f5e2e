package policy

import "testing"

// benchPolicy has ten statements of the kinds permission sets hold: service
// wildcards, action-name wildcards, ARNs with wildcards, a NotAction, a deny
// and one condition.
const benchPolicy = `{"Version":"2012-10-17","Statement":[
	{"Sid":"ReadEC2","Effect":"Allow","Action":["ec2:Describe*","ec2:Get*"],"Resource":"*"},
	{"Sid":"Logs","Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"arn:aws:logs:*:111122223333:log-group:/app/*"},
	{"Sid":"Tables","Effect":"Allow","Action":["dynamodb:GetItem","dynamodb:Query","dynamodb:PutItem"],"Resource":"arn:aws:dynamodb:us-east-1:111122223333:table/orders*"},
	{"Sid":"Queues","Effect":"Allow","Action":"sqs:*","Resource":"arn:aws:sqs:us-east-?:111122223333:jobs-*"},
	{"Sid":"NoIAM","Effect":"Deny","Action":["iam:Create*","iam:Delete*","iam:Put*"],"Resource":"*"},
	{"Sid":"Secrets","Effect":"Allow","Action":"secretsmanager:GetSecretValue","Resource":"arn:aws:secretsmanager:*:111122223333:secret:app/*"},
	{"Sid":"Lambda","Effect":"Allow","Action":["lambda:InvokeFunction","lambda:Get*"],"Resource":["arn:aws:lambda:*:111122223333:function:app-*","arn:aws:lambda:*:111122223333:function:app-*:*"]},
	{"Sid":"KMS","Effect":"Allow","Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"arn:aws:kms:us-east-1:111122223333:key/*"},
	{"Sid":"NotBilling","Effect":"Allow","NotAction":["aws-portal:*","budgets:*"],"Resource":"arn:aws:cloudwatch:*:111122223333:alarm:*"},
	{"Sid":"S3Team","Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::data-*/team/*","Condition":{"StringEquals":{"aws:PrincipalTag/team":["red","blue"]}}}]}`

// BenchmarkEvaluate10Statements decides a request that only the last
// statement (the conditional one) allows, so every statement is looked at.
func BenchmarkEvaluate10Statements(b *testing.B) {
	d := mustParse(b, benchPolicy, Identity)
	r := &Request{
		Action:   "s3:GetObject",
		Resource: "arn:aws:s3:::data-lake/team/reports/2024/q1.csv",
		Context: map[string][]string{
			"aws:PrincipalTag/team": {"blue"},
			"aws:username":          {"ana"},
			"aws:SourceIp":          {"203.0.113.9"},
		},
	}
	if got := d.Evaluate(r); got != Allow {
		b.Fatalf("Evaluate = %v, want Allow", got)
	}
	b.ReportAllocs()
	for b.Loop() {
		d.Evaluate(r)
	}
}
