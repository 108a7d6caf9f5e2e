package policy

import "testing"

// Trust policy evaluation for sts:AssumeRole and its kin, from the IAM User
// Guide's Principal and NotPrincipal element pages.

func assume(caller *Principal, kv ...string) Request {
	return Request{Action: "sts:AssumeRole", Resource: "arn:aws:iam::111122223333:role/Target", Principal: caller, Context: ctx(kv...)}
}

var (
	rootOf444    = &Principal{AWS: "arn:aws:iam::444455556666:root", Account: "444455556666"}
	bobOf444     = &Principal{AWS: "arn:aws:iam::444455556666:user/Bob", Account: "444455556666"}
	aliceOf444   = &Principal{AWS: "arn:aws:iam::444455556666:user/Alice", Account: "444455556666"}
	deploySess   = &Principal{AWS: "arn:aws:sts::444455556666:assumed-role/Deploy/ci-run-7", Account: "444455556666"}
	otherSess    = &Principal{AWS: "arn:aws:sts::444455556666:assumed-role/Other/ci-run-7", Account: "444455556666"}
	deployIn777  = &Principal{AWS: "arn:aws:sts::777788889999:assumed-role/Deploy/ci-run-7", Account: "777788889999"}
	ssoService   = &Principal{Service: "sso.amazonaws.com"}
	ec2Service   = &Principal{Service: "ec2.amazonaws.com"}
	samlProvider = &Principal{Federated: "arn:aws:iam::111122223333:saml-provider/AWSSSO_0123_DO_NOT_DELETE"}
)

func TestEvaluateTrustPolicies(t *testing.T) {
	src := guide + "reference_policies_elements_principal.html"
	runDocCases(t, []docCase{
		{
			// "The account ARN and the shortened account ID behave the same way...
			// does not limit permissions to only the root user of the account."
			source: src + "#principal-accounts",
			kind:   Resource,
			doc: `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":"sts:AssumeRole"},
				{"Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"sts:AssumeRole"}]}`,
			cases: []evalCase{
				{"the account's root", assume(rootOf444), Allow},
				{"a user of the account", assume(bobOf444), Allow},
				{"a role session of the account", assume(deploySess), Allow},
				{"the short form: a session of 123456789012", assume(&Principal{AWS: "arn:aws:sts::123456789012:assumed-role/R/s"}), Allow},
				{"another account", assume(deployIn777), ImplicitDeny},
				{"a service", assume(ec2Service), ImplicitDeny},
				{"nobody", assume(nil), ImplicitDeny},
				{"another action", Request{Action: "sts:AssumeRoleWithSAML", Principal: rootOf444}, ImplicitDeny},
			},
		},
		{
			// A role principal: its sessions assume the target role.
			source: src + "#principal-roles",
			kind:   Resource,
			doc:    `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/pipelines/Deploy"},"Action":["sts:AssumeRole","sts:TagSession"]}}`,
			cases: []evalCase{
				{"a session of the role (path not in the session ARN)", assume(deploySess), Allow},
				{"role names are case-insensitive", assume(&Principal{AWS: "arn:aws:sts::444455556666:assumed-role/deploy/x", Account: "444455556666"}), Allow},
				{"the role ARN itself", assume(&Principal{AWS: "arn:aws:iam::444455556666:role/pipelines/Deploy", Account: "444455556666"}), Allow},
				{"a session of another role", assume(otherSess), ImplicitDeny},
				{"a same-named role in another account", assume(deployIn777), ImplicitDeny},
				{"a user of the account", assume(bobOf444), ImplicitDeny},
				{"the account root", assume(rootOf444), ImplicitDeny},
				{"TagSession too", Request{Action: "sts:TagSession", Principal: deploySess}, Allow},
			},
		},
		{
			source: src + "#principal-sessions",
			kind:   Resource,
			doc:    `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:sts::444455556666:assumed-role/Deploy/ci-run-7"},"Action":"sts:AssumeRole"}}`,
			cases: []evalCase{
				{"that session", assume(deploySess), Allow},
				{"another session of the role", assume(&Principal{AWS: "arn:aws:sts::444455556666:assumed-role/Deploy/ci-run-8", Account: "444455556666"}), ImplicitDeny},
			},
		},
		{
			source: src + "#principal-users",
			kind:   Resource,
			doc:    `{"Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::444455556666:user/Bob"]},"Action":"sts:AssumeRole"}}`,
			cases: []evalCase{
				{"Bob", assume(bobOf444), Allow},
				{"Alice", assume(aliceOf444), ImplicitDeny},
			},
		},
		{
			source: src + "#principal-services",
			kind:   Resource,
			doc:    `{"Statement":{"Effect":"Allow","Principal":{"Service":["ecs.amazonaws.com","sso.amazonaws.com"]},"Action":"sts:AssumeRole"}}`,
			cases: []evalCase{
				{"Identity Center", assume(ssoService), Allow},
				{"EC2 is not listed", assume(ec2Service), ImplicitDeny},
				{"an account is no service", assume(rootOf444), ImplicitDeny},
			},
		},
		{
			// The role Identity Center provisions trusts the account's SAML provider.
			source: src + "#principal-saml",
			kind:   Resource,
			doc: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::111122223333:saml-provider/AWSSSO_0123_DO_NOT_DELETE"},
				"Action":["sts:AssumeRoleWithSAML","sts:TagSession"],"Condition":{"StringEquals":{"SAML:aud":"https://signin.aws.amazon.com/saml"}}}}`,
			cases: []evalCase{
				{"the provider with the right audience", Request{Action: "sts:AssumeRoleWithSAML", Principal: samlProvider, Context: ctx("SAML:aud", "https://signin.aws.amazon.com/saml")}, Allow},
				{"the provider with another audience", Request{Action: "sts:AssumeRoleWithSAML", Principal: samlProvider, Context: ctx("SAML:aud", "https://evil.example/saml")}, ImplicitDeny},
				{"another provider", Request{Action: "sts:AssumeRoleWithSAML", Principal: &Principal{Federated: "arn:aws:iam::111122223333:saml-provider/Other"}, Context: ctx("SAML:aud", "https://signin.aws.amazon.com/saml")}, ImplicitDeny},
			},
		},
		{
			// "Principal": "*" and {"AWS": "*"} are the same; conditions then decide.
			source: src + "#principal-anonymous",
			kind:   Resource,
			doc:    `{"Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123"}}}}`,
			cases: []evalCase{
				{"anyone in the organization", assume(deployIn777, "aws:PrincipalOrgID", "o-abc123"), Allow},
				{"outside the organization", assume(deployIn777, "aws:PrincipalOrgID", "o-zzz999"), ImplicitDeny},
				{"anonymous, no organization", assume(nil), ImplicitDeny},
			},
		},
		{
			// NotPrincipal with Deny: everyone but Bob and his account is denied.
			source: guide + "reference_policies_elements_notprincipal.html#specifying-notprincipal",
			kind:   Resource,
			doc: `{"Version":"2012-10-17","Statement":[
				{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::444455556666:user/Bob","arn:aws:iam::444455556666:root"]},"Action":"sts:AssumeRole"},
				{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}]}`,
			cases: []evalCase{
				{"Bob is not denied", assume(bobOf444), Allow},
				{"the account root is not denied", assume(rootOf444), Allow},
				// Listing the account root names the whole account (account principals, above).
				{"another user of Bob's account is not denied either", assume(aliceOf444), Allow},
				{"another account is denied", assume(deployIn777), ExplicitDeny},
				{"a service is denied", assume(ssoService), ExplicitDeny},
				{"anonymous is denied", assume(nil), ExplicitDeny},
			},
		},
	})
}

// TestTrustPolicyPrincipalSpoofing stops a caller from passing for a trusted
// principal by look-alike ARNs: another partition, a role name that merely
// starts with the trusted one, a user of the same name as the role.
func TestTrustPolicyPrincipalSpoofing(t *testing.T) {
	d := mustParse(t, `{"Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:role/Deploy"},"Action":"sts:AssumeRole"}}`, Resource)
	for _, p := range []*Principal{
		{AWS: "arn:aws-cn:sts::444455556666:assumed-role/Deploy/s", Account: "444455556666"},
		{AWS: "arn:aws:sts::444455556666:assumed-role/DeployAdmin/s", Account: "444455556666"},
		{AWS: "arn:aws:sts::444455556666:assumed-role/Deploy", Account: "444455556666"},
		{AWS: "arn:aws:iam::444455556666:user/Deploy", Account: "444455556666"},
		{AWS: "arn:aws:sts::444455556666:federated-user/Deploy", Account: "444455556666"},
		{Service: "arn:aws:iam::444455556666:role/Deploy"},
		{Account: "444455556666"},
	} {
		if got := d.Evaluate(&Request{Action: "sts:AssumeRole", Principal: p}); got != ImplicitDeny {
			t.Errorf("%+v: got %v, want ImplicitDeny", p, got)
		}
	}
}
