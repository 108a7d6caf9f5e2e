package model

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/atrium-sso/atrium/internal/apierr"
)

func input(t testing.TB, svc, op string) *Shape {
	t.Helper()
	o := MustLoad(svc).Operation(op)
	if o == nil || o.Input == nil {
		t.Fatalf("%s.%s has no input", svc, op)
	}
	return o.Input
}

// wantErr checks err against "" (no error) or "Code: message".
func wantErr(t *testing.T, err error, want string) {
	t.Helper()
	if want == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	e, ok := apierr.As(err)
	if !ok {
		t.Fatalf("error = %v (%T), want *apierr.Error %q", err, err, want)
	}
	if got := e.Code + ": " + e.Message; got != want {
		t.Fatalf("error =\n  %s\nwant\n  %s", got, want)
	}
}

func TestDecodeJSON(t *testing.T) {
	long := strings.Repeat("a", 51)
	tags51 := make([]string, 51)
	for i := range tags51 {
		tags51[i] = `{"Key":"k","Value":"v"}`
	}
	cases := []struct {
		svc, op, body, want string
	}{
		// organizations CreateAccount: Email and AccountName are sensitive, so AWS leaves their values out.
		{"organizations", "CreateAccount", `{"Email":"a@example.com","AccountName":"dev"}`, ""},
		{"organizations", "CreateAccount", ``,
			"ValidationException: 2 validation errors detected: Value null at 'email' failed to satisfy constraint: Member must not be null; Value null at 'accountName' failed to satisfy constraint: Member must not be null"},
		{"organizations", "CreateAccount", `{"Email":"a@example.com","AccountName":null}`,
			"ValidationException: 1 validation error detected: Value null at 'accountName' failed to satisfy constraint: Member must not be null"},
		{"organizations", "CreateAccount", `{"Email":"a@example.com","AccountName":"` + long + `"}`,
			"ValidationException: 1 validation error detected: Value at 'accountName' failed to satisfy constraint: Member must have length less than or equal to 50"},
		{"organizations", "CreateAccount", `{"Email":"not-an-email","AccountName":"dev"}`,
			`ValidationException: 1 validation error detected: Value at 'email' failed to satisfy constraint: Member must satisfy regular expression pattern: [^\s@]+@[^\s@]+\.[^\s@]+`},
		{"organizations", "CreateAccount", `{"Email":"a@b.c","AccountName":""}`,
			`ValidationException: 3 validation errors detected: Value at 'email' failed to satisfy constraint: Member must have length greater than or equal to 6; Value at 'accountName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value at 'accountName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\u0020-\u007E]+`},
		{"organizations", "CreateAccount", `{"Email":"a@example.com","AccountName":"dev","IamUserAccessToBilling":"MAYBE"}`,
			"ValidationException: 1 validation error detected: Value 'MAYBE' at 'iamUserAccessToBilling' failed to satisfy constraint: Member must satisfy enum value set: [ALLOW, DENY]"},
		{"organizations", "CreateAccount", `{"Email":"a@example.com","AccountName":"dev","Tags":[{"Key":"bad#key","Value":"v"},{"Value":"x"}]}`,
			`ValidationException: 2 validation errors detected: Value 'bad#key' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$; Value null at 'tags.2.member.key' failed to satisfy constraint: Member must not be null`},
		// The organizations model puts no bound on the Tags list (the 50-tag
		// limit is enforced by the service itself), so only sts/iam lists fail.
		{"organizations", "CreateAccount", `{"Email":"a@example.com","AccountName":"dev","Tags":[` + strings.Join(tags51, ",") + `]}`, ""},
		{"sts", "AssumeRole", `{"RoleArn":"arn:aws:iam::123456789012:role/r","RoleSessionName":"s","Tags":[` + strings.Join(tags51, ",") + `]}`,
			"ValidationException: 2 validation errors detected: Value 's' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2; Value '[{Key=k, Value=v}" + strings.Repeat(", {Key=k, Value=v}", 50) + "]' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50"},
		// Wrong JSON types are SerializationExceptions naming the member.
		{"organizations", "CreateAccount", `{"Email":5,"AccountName":"dev"}`,
			"SerializationException: NUMBER_VALUE can not be converted to a String at 'email'"},
		{"organizations", "CreateAccount", `{"Email":"a@example.com","AccountName":"dev","Tags":{"Key":"k"}}`,
			"SerializationException: Start of structure or map found where not expected at 'tags'"},
		{"organizations", "CreateAccount", `{"Email":"a@example.com","AccountName":"dev","Tags":[{"Key":["k"],"Value":"v"}]}`,
			"SerializationException: Start of list found where not expected at 'tags.1.member.key'"},
		{"organizations", "CreateAccount", `[]`, "SerializationException: Start of list found where not expected"},
		{"organizations", "CreateAccount", `"x"`, "SerializationException: STRING_VALUE can not be converted to a Structure"},
		{"organizations", "CreateAccount", `null`, "SerializationException: The request body must be a JSON object, not null"},
		{"organizations", "CreateAccount", `{"Email":`, "SerializationException: The request body is not valid JSON"},
		{"organizations", "CreateAccount", `{} {}`, "SerializationException: Unexpected content after the JSON object in the request body"},
		{"organizations", "CreateAccount", `{"Email":"a@example.com","AccountName":"dev"}]`, "SerializationException: Unexpected content after the JSON object in the request body"},
		// ListAccounts MaxResults is an integer in [1, 20].
		{"organizations", "ListAccounts", `{}`, ""},
		{"organizations", "ListAccounts", `{"MaxResults":20}`, ""},
		{"organizations", "ListAccounts", `{"MaxResults":0}`,
			"ValidationException: 1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"organizations", "ListAccounts", `{"MaxResults":21}`,
			"ValidationException: 1 validation error detected: Value '21' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 20"},
		{"organizations", "ListAccounts", `{"MaxResults":"5"}`, "SerializationException: STRING_VALUE can not be converted to an Integer at 'maxResults'"},
		{"organizations", "ListAccounts", `{"MaxResults":true}`, "SerializationException: TRUE_VALUE can not be converted to an Integer at 'maxResults'"},
		{"organizations", "ListAccounts", `{"MaxResults":5.5}`, "SerializationException: DECIMAL_VALUE can not be converted to an Integer at 'maxResults'"},
		{"organizations", "ListAccounts", `{"MaxResults":1e10}`, "SerializationException: NUMBER_VALUE can not be converted to an Integer at 'maxResults'"},
		{"organizations", "DescribeAccount", `{"AccountId":"12345678901x"}`,
			`ValidationException: 1 validation error detected: Value '12345678901x' at 'accountId' failed to satisfy constraint: Member must satisfy regular expression pattern: ^\d{12}$`},
		// identitystore: nested structures, lists of structures, unions, maps.
		{"identitystore", "CreateUser", `{"IdentityStoreId":"d-1234567890","UserName":"jdoe","Name":{"GivenName":"J","FamilyName":"Doe"},"Emails":[{"Value":"j@example.com","Primary":true}]}`, ""},
		{"identitystore", "CreateUser", `{"IdentityStoreId":"x","Name":{"GivenName":""},"Emails":[{"Value":"a"},{"Value":"b"}]}`,
			"ValidationException: 4 validation errors detected: Value 'x' at 'identityStoreId' failed to satisfy constraint: Member must satisfy regular expression pattern: d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}; Value at 'name.givenName' failed to satisfy constraint: Member must have length greater than or equal to 1; Value at 'name.givenName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\t\\n\\r \u00a0\u3000]+; Value at 'emails' failed to satisfy constraint: Member must have length less than or equal to 1"},
		{"identitystore", "CreateUser", `{"IdentityStoreId":"d-1234567890","Emails":[{"Primary":"yes"}]}`,
			"SerializationException: STRING_VALUE can not be converted to a Boolean at 'emails.1.member.primary'"},
		{"identitystore", "CreateUser", `{"IdentityStoreId":"d-1234567890","Extensions":{"aws:identitystore:enterprise":{"employeeNumber":"7","manager":{"value":"x"}}}}`, ""},
		{"identitystore", "CreateUser", `{"IdentityStoreId":"d-1234567890","Extensions":{"custom":{}}}`,
			"ValidationException: 1 validation error detected: Value '{custom={}}' at 'extensions' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 50, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: aws:identitystore:[a-z]{1,20}]"},
		{"identitystore", "CreateGroupMembership", `{"IdentityStoreId":"d-1234567890","GroupId":"a1b2c3d4-1111-2222-3333-444455556666","MemberId":{"UserId":"a1b2c3d4-1111-2222-3333-444455556666"}}`, ""},
		{"identitystore", "CreateGroupMembership", `{"IdentityStoreId":"d-1234567890","GroupId":"a1b2c3d4-1111-2222-3333-444455556666","MemberId":{}}`,
			"SerializationException: Union value at 'memberId' must have exactly one member set, found 0"},
		{"identitystore", "UpdateUser", `{"IdentityStoreId":"d-1234567890","UserId":"a1b2c3d4-1111-2222-3333-444455556666","Operations":[{"AttributePath":"name.givenName","AttributeValue":"Jane"},{"AttributePath":"bad path"}]}`,
			`ValidationException: 1 validation error detected: Value 'bad path' at 'operations.2.member.attributePath' failed to satisfy constraint: Member must satisfy regular expression pattern: (?:\p{L}+:\p{L}+:\p{L}+(?:\.\p{L}+){0,3}|\p{L}+(?:\.\p{L}+){0,2})`},
		// sso-admin
		{"sso-admin", "CreateAccountAssignment", `{"InstanceArn":"arn:aws:sso:::instance/ssoins-1234567890abcdef","TargetId":"123456789012","TargetType":"AWS_ACCOUNT","PermissionSetArn":"arn:aws:sso:::permissionSet/ssoins-1234567890abcdef/ps-1234567890abcdef","PrincipalType":"USER","PrincipalId":"a1b2c3d4-1111-2222-3333-444455556666"}`, ""},
		{"sso-admin", "CreateAccountAssignment", `{"InstanceArn":"arn:aws:sso:::instance/ssoins-1234567890abcdef","TargetId":"1234","TargetType":"OU","PrincipalType":"ROLE","PrincipalId":"a1b2c3d4-1111-2222-3333-444455556666"}`,
			`ValidationException: 5 validation errors detected: Value '1234' at 'targetId' failed to satisfy constraint: Member must have length greater than or equal to 12; Value '1234' at 'targetId' failed to satisfy constraint: Member must satisfy regular expression pattern: \d{12}; Value 'OU' at 'targetType' failed to satisfy constraint: Member must satisfy enum value set: [AWS_ACCOUNT]; Value null at 'permissionSetArn' failed to satisfy constraint: Member must not be null; Value 'ROLE' at 'principalType' failed to satisfy constraint: Member must satisfy enum value set: [USER, GROUP]`},
		{"sso-admin", "CreatePermissionSet", `{"Name":"Admin","InstanceArn":"arn:aws:sso:::instance/ssoins-1234567890abcdef","SessionDuration":"PT8H","Tags":[{"Key":"team","Value":"x"}]}`, ""},
		{"sso-admin", "CreatePermissionSet", `{"Name":"has space","InstanceArn":"arn:aws:sso:::instance/ssoins-1234567890abcdef"}`,
			`ValidationException: 1 validation error detected: Value 'has space' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`},
		// unknown members are ignored, as AWS does
		{"organizations", "DescribeAccount", `{"AccountId":"123456789012","Bogus":{"x":[1]}}`, ""},
		// an operation without input accepts any object
		{"organizations", "DescribeOrganization", `{"whatever":1}`, ""},
	}
	for _, c := range cases {
		t.Run(c.svc+"."+c.op, func(t *testing.T) {
			in := MustLoad(c.svc).Operation(c.op).Input
			_, err := in.DecodeJSON([]byte(c.body))
			wantErr(t, err, c.want)
		})
	}
}

func TestDecodeJSONNormalizes(t *testing.T) {
	m, err := input(t, "organizations", "ListAccounts").DecodeJSON([]byte(`{"MaxResults":5.0,"NextToken":null,"Extra":1}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"MaxResults": json.Number("5")}; !reflect.DeepEqual(m, want) {
		t.Fatalf("got %#v, want %#v", m, want)
	}
}

func TestValidateDoesNotModify(t *testing.T) {
	v := map[string]any{"MaxResults": json.Number("5.0"), "Extra": 1}
	if err := input(t, "organizations", "ListAccounts").Validate(v); err != nil {
		t.Fatal(err)
	}
	if v["MaxResults"] != json.Number("5.0") || v["Extra"] != 1 {
		t.Fatalf("Validate modified its input: %v", v)
	}
	// Go numbers are accepted too, for values built in code.
	wantErr(t, input(t, "organizations", "ListAccounts").Validate(map[string]any{"MaxResults": 50}),
		"ValidationException: 1 validation error detected: Value '50' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 20")
}

func TestDecodeQuery(t *testing.T) {
	cases := []struct {
		svc, op, form string
		want          map[string]any // nil: only check the error
		err           string
	}{
		{"sts", "AssumeRole",
			"Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdev&RoleSessionName=me&DurationSeconds=3600" +
				"&PolicyArns.member.1.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FReadOnlyAccess&PolicyArns.member.2.arn=arn%3Aaws%3Aiam%3A%3Aaws%3Apolicy%2FViewOnlyAccess" +
				"&Tags.member.1.Key=team&Tags.member.1.Value=blue&Tags.member.2.Key=env&Tags.member.2.Value=" +
				"&TransitiveTagKeys.member.1=team",
			map[string]any{
				"RoleArn": "arn:aws:iam::123456789012:role/dev", "RoleSessionName": "me", "DurationSeconds": json.Number("3600"),
				"PolicyArns": []any{
					map[string]any{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
					map[string]any{"arn": "arn:aws:iam::aws:policy/ViewOnlyAccess"},
				},
				"Tags": []any{
					map[string]any{"Key": "team", "Value": "blue"},
					map[string]any{"Key": "env", "Value": ""},
				},
				"TransitiveTagKeys": []any{"team"},
			}, ""},
		{"sts", "AssumeRole", "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdev&RoleSessionName=me&Tags=",
			map[string]any{"RoleArn": "arn:aws:iam::123456789012:role/dev", "RoleSessionName": "me", "Tags": []any{}}, ""},
		{"sts", "AssumeRole", "RoleSessionName=me&DurationSeconds=abc", nil,
			"SerializationException: STRING_VALUE can not be converted to an Integer at 'durationSeconds'"},
		{"sts", "AssumeRole", "RoleSessionName=me&DurationSeconds=60&Tags.member.1.Value=v&PolicyArns.member.1.arn=arn%3Ashort", nil,
			"ValidationException: 4 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
				"Value 'arn:short' at 'policyArns.1.member.arn' failed to satisfy constraint: Member must have length greater than or equal to 20; " +
				"Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900; " +
				"Value null at 'tags.1.member.key' failed to satisfy constraint: Member must not be null"},
		{"sts", "AssumeRole", "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdev&RoleSessionName=me&Tags=x", nil,
			"SerializationException: STRING_VALUE can not be converted to a List at 'tags'"},
		{"sts", "AssumeRole", "RoleArn.x=1&RoleSessionName=me", nil,
			"SerializationException: Start of structure or map found where not expected at 'roleArn'"},
		{"sts", "AssumeRoleWithWebIdentity", "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fdev&RoleSessionName=me&WebIdentityToken=", nil,
			"ValidationException: 1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4"},
		{"iam", "ListRoles", "Action=ListRoles&Version=2010-05-08&PathPrefix=%2Fadmin%2F&MaxItems=100&Marker=abc",
			map[string]any{"PathPrefix": "/admin/", "MaxItems": json.Number("100"), "Marker": "abc"}, ""},
		{"iam", "ListRoles", "PathPrefix=admin&MaxItems=0", nil,
			`ValidationException: 2 validation errors detected: Value 'admin' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*; Value '0' at 'maxItems' failed to satisfy constraint: Member must have value greater than or equal to 1`},
		{"iam", "ListRoles", "MaxItems=abc", nil, "SerializationException: STRING_VALUE can not be converted to an Integer at 'maxItems'"},
		{"iam", "ListRoles", "MaxItems=1.0", nil, "SerializationException: STRING_VALUE can not be converted to an Integer at 'maxItems'"},
		{"iam", "CreateRole", "RoleName=my+role&AssumeRolePolicyDocument=%7B%7D&Tags.member.1.Key=bad%23key&Tags.member.1.Value=v", nil,
			`ValidationException: 2 validation errors detected: Value 'my role' at 'roleName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+; ` +
				`Value 'bad#key' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`},
		{"iam", "CreateLoginProfile", "UserName=bob&Password=x&PasswordResetRequired=maybe", nil,
			"SerializationException: STRING_VALUE can not be converted to a Boolean at 'passwordResetRequired'"},
		{"iam", "CreateLoginProfile", "UserName=bob&Password=&PasswordResetRequired=TRUE", nil,
			`ValidationException: 2 validation errors detected: Value at 'password' failed to satisfy constraint: Member must have length greater than or equal to 1; ` +
				`Value at 'password' failed to satisfy constraint: Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+`},
	}
	for _, c := range cases {
		t.Run(c.svc+"."+c.op, func(t *testing.T) {
			form, err := url.ParseQuery(c.form)
			if err != nil {
				t.Fatal(err)
			}
			got, err := input(t, c.svc, c.op).DecodeQuery(form)
			wantErr(t, err, c.err)
			if c.want != nil && !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got  %#v\nwant %#v", got, c.want)
			}
		})
	}
}

// A synthetic query model exercises what the embedded awsQuery inputs do
// not use: maps, flattened lists and maps, locationName overrides, timestamps.
const queryModel = `{"botocore":"test","metadata":{"protocol":"query"},"operations":{"Op":{"method":"POST","requestUri":"/","input":"In"}},"shapes":{
"In":{"type":"structure","members":[
 {"name":"Attrs","shape":"AttrMap"},{"name":"Flat","shape":"FlatMap","flattened":true},
 {"name":"Names","shape":"NameList","flattened":true},{"name":"Renamed","shape":"Str","locationName":"Other"},
 {"name":"When","shape":"Time"},{"name":"Data","shape":"Bytes"},{"name":"Ratio","shape":"Dbl"},
 {"name":"Nested","shape":"NestedList"}]},
"AttrMap":{"type":"map","key":{"shape":"Key"},"value":{"shape":"Str"},"max":2},
"FlatMap":{"type":"map","key":{"shape":"Key","locationName":"Name"},"value":{"shape":"Str","locationName":"Val"}},
"NameList":{"type":"list","member":{"shape":"Str","locationName":"Name"}},
"NestedList":{"type":"list","member":{"shape":"NameList2","locationName":"item"}},
"NameList2":{"type":"list","member":{"shape":"Str"}},
"Key":{"type":"string","pattern":"[a-z]+","max":5},
"Str":{"type":"string","max":3},
"Time":{"type":"timestamp"},"Bytes":{"type":"blob","max":2},"Dbl":{"type":"double","min":0,"max":1}}}`

func TestDecodeQuerySynthetic(t *testing.T) {
	svc, err := parseData("synthetic", []byte(queryModel))
	if err != nil {
		t.Fatal(err)
	}
	in := svc.Operation("Op").Input
	form, _ := url.ParseQuery("Attrs.entry.1.key=a&Attrs.entry.1.value=x&Attrs.entry.2.key=b&Attrs.entry.2.value=y" +
		"&Flat.1.Name=c&Flat.1.Val=z&Name.1=n1&Name.2=n2&Other=o&When=2024-01-02T03:04:05.5Z&Data=AAE%3D&Ratio=0.25" +
		"&Nested.item.1.member.1=p&Nested.item.1.member.2=q")
	got, err := in.DecodeQuery(form)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Attrs": map[string]any{"a": "x", "b": "y"}, "Flat": map[string]any{"c": "z"},
		"Names": []any{"n1", "n2"}, "Renamed": "o", "When": json.Number("1704164645.5"),
		"Data": "AAE=", "Ratio": json.Number("0.25"), "Nested": []any{[]any{"p", "q"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}

	form, _ = url.ParseQuery("Attrs.entry.1.key=BAD&Attrs.entry.1.value=long&Attrs.entry.2.key=b&Attrs.entry.3.key=c&Attrs.entry.3.value=v&Data=AAECAw%3D%3D&Ratio=2")
	_, err = in.DecodeQuery(form)
	wantErr(t, err, "ValidationException: 5 validation errors detected: "+
		"Value '{BAD=long, b=null, c=v}' at 'attrs' failed to satisfy constraint: Member must have length less than or equal to 2; "+
		"Value '{BAD=long, b=null, c=v}' at 'attrs' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 5, Member must satisfy regular expression pattern: [a-z]+]; "+
		"Value '{BAD=long, b=null, c=v}' at 'attrs' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 3, Member must not be null]; "+
		"Value 'AAECAw==' at 'data' failed to satisfy constraint: Member must have length less than or equal to 2; "+
		"Value '2' at 'ratio' failed to satisfy constraint: Member must have value less than or equal to 1.0")

	for q, want := range map[string]string{
		"When=yesterday":                 "SerializationException: STRING_VALUE can not be converted to a Timestamp at 'when'",
		"Data=%21%21":                    "SerializationException: Invalid Base64 value at 'data'",
		"Ratio=0x1p-2":                   "SerializationException: STRING_VALUE can not be converted to a Double at 'ratio'",
		"Attrs.entry.1.value=x":          "SerializationException: Map entry without a key at 'attrs'",
		"Other=%FF":                      "SerializationException: Invalid UTF-8 at 'renamed'",
		"Name.1.x=1":                     "SerializationException: Start of structure or map found where not expected at 'names.1.member'",
		"When=1704164645&Ratio=NaN":      "",
		"Nested.item.1=&Names=&Ratio=-0": "",
	} {
		form, _ := url.ParseQuery(q)
		_, err := in.DecodeQuery(form)
		t.Run(q, func(t *testing.T) { wantErr(t, err, want) })
	}
}

func TestDecodeREST(t *testing.T) {
	in := input(t, "sso", "GetRoleCredentials")
	q := url.Values{"role_name": {"Admin"}, "account_id": {"123456789012"}}
	h := map[string][]string{"X-Amz-Sso_bearer_token": {"tok"}}
	got, err := in.DecodeREST(nil, h, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[string]any{"roleName": "Admin", "accountId": "123456789012", "accessToken": "tok"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
	// A body cannot supply header-bound members; the sensitive token is not echoed.
	_, err = in.DecodeREST([]byte(`{"accessToken":"tok"}`), nil, q, nil)
	wantErr(t, err, "ValidationException: 1 validation error detected: Value null at 'accessToken' failed to satisfy constraint: Member must not be null")

	lst := input(t, "sso", "ListAccounts")
	_, err = lst.DecodeREST(nil, h, url.Values{"max_result": {"x"}}, nil)
	wantErr(t, err, "SerializationException: STRING_VALUE can not be converted to an Integer at 'maxResults'")
	_, err = lst.DecodeREST(nil, h, url.Values{"max_result": {"0"}}, nil)
	wantErr(t, err, "ValidationException: 1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1")

	tok := input(t, "sso-oidc", "CreateToken")
	got, err = tok.DecodeREST([]byte(`{"clientId":"c","clientSecret":"s","grantType":"urn:ietf:params:oauth:grant-type:device_code","deviceCode":"d"}`), nil, nil, nil)
	if err != nil || got["deviceCode"] != "d" {
		t.Fatalf("got %v, %v", got, err)
	}
}

func TestRedact(t *testing.T) {
	in := input(t, "organizations", "CreateAccount")
	v, err := in.DecodeJSON([]byte(`{"Email":"a@example.com","AccountName":"dev","RoleName":"OrgAdmin","Tags":[{"Key":"k","Value":"v"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := in.Redact(v)
	want := map[string]any{"Email": Hidden, "AccountName": Hidden, "RoleName": "OrgAdmin",
		"Tags": []any{map[string]any{"Key": "k", "Value": "v"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
	if v["Email"] != "a@example.com" {
		t.Fatal("Redact modified its input")
	}
	got.(map[string]any)["Tags"].([]any)[0].(map[string]any)["Key"] = "changed"
	if v["Tags"].([]any)[0].(map[string]any)["Key"] != "k" {
		t.Fatal("Redact did not copy deeply")
	}
	// nested sensitive values in identitystore
	cu := input(t, "identitystore", "CreateUser")
	got = cu.Redact(map[string]any{"IdentityStoreId": "d-1234567890", "Name": map[string]any{"GivenName": "J"},
		"Emails": []any{map[string]any{"Value": "j@example.com", "Primary": true}}})
	want = map[string]any{"IdentityStoreId": "d-1234567890", "Name": map[string]any{"GivenName": Hidden},
		"Emails": []any{map[string]any{"Value": Hidden, "Primary": true}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
}

// Every operation of every embedded service resolves its shapes, and every
// reference inside a shape resolves too.
func TestModelsResolve(t *testing.T) {
	want := []string{"iam", "identitystore", "organizations", "sso", "sso-admin", "sso-oidc", "sts"}
	if got := Services(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Services() = %v, want %v", got, want)
	}
	for _, name := range want {
		svc, err := Load(name)
		if err != nil {
			t.Fatal(err)
		}
		if svc.BotocoreVersion == "" || svc.Protocol == "" || svc.APIVersion == "" || svc.SigningName == "" || len(svc.Operations) == 0 {
			t.Errorf("%s: incomplete metadata %+v", name, svc)
		}
		for opName, op := range svc.Operations {
			if op.Name != opName || op.HTTPMethod == "" || op.RequestURI == "" {
				t.Errorf("%s.%s: incomplete operation", name, opName)
			}
			for _, s := range append([]*Shape{op.Input, op.Output}, op.Errors...) {
				if s != nil && s.Type != "structure" && s.Type != "document" {
					t.Errorf("%s.%s: %s is a %s", name, opName, s.Name, s.Type)
				}
			}
			for _, e := range op.Errors {
				if !e.Exception || e.ErrorCode == "" || e.HTTPStatus == 0 {
					t.Errorf("%s.%s: error shape %s incomplete", name, opName, e.Name)
				}
			}
		}
		for _, s := range svc.Shapes {
			switch s.Type {
			case "list":
				if s.Member == nil {
					t.Errorf("%s: list %s without member", name, s.Name)
				}
			case "map":
				if s.Key == nil || s.Value == nil {
					t.Errorf("%s: map %s without key/value", name, s.Name)
				}
			case "structure":
				for _, m := range s.Members {
					if m.Shape == nil {
						t.Errorf("%s: %s.%s unresolved", name, s.Name, m.Name)
					}
				}
				for _, r := range s.Required {
					if s.Members[r] == nil {
						t.Errorf("%s: %s requires unknown member %s", name, s.Name, r)
					}
				}
			}
		}
	}
	if _, err := Load("nope"); err == nil {
		t.Fatal("Load of an unknown service succeeded")
	}
	sts := MustLoad("sts")
	if op := sts.Operation("AssumeRoleWithWebIdentity"); !op.NoAuth || sts.Operation("AssumeRole").NoAuth {
		t.Error("NoAuth not taken from the model")
	}
	if e := sts.Shapes["IDPRejectedClaimException"]; e.ErrorCode != "IDPRejectedClaim" || e.HTTPStatus != 403 || !e.SenderFault {
		t.Errorf("sts error traits: %+v", e)
	}
	if e := MustLoad("organizations").Shapes["ServiceException"]; e.ErrorCode != "ServiceException" {
		t.Errorf("organizations ServiceException code %q", e.ErrorCode)
	}
}

// maxUncompilable guards the Java-to-RE2 translation: a pattern that
// compiled before must not silently stop compiling (validation would just
// disappear). Raise it only when a new model brings a new lookaround.
const maxUncompilable = 2

func TestPatternsCompile(t *testing.T) {
	total := 0
	for _, name := range Services() {
		var bad []string
		for _, s := range MustLoad(name).Shapes {
			if s.PatternText != "" && s.Pattern == nil {
				bad = append(bad, s.Name)
			}
		}
		total += len(bad)
		want := uncompilablePatterns[name]
		if len(bad) != len(want) || !sameSet(bad, want) {
			t.Errorf("%s: uncompilable patterns %v, generated list says %v (run go generate?)", name, bad, want)
		}
	}
	if total > maxUncompilable {
		t.Errorf("%d uncompilable patterns, at most %d expected", total, maxUncompilable)
	}
}

func sameSet(a, b []string) bool {
	set := map[string]bool{}
	for _, x := range a {
		set[x] = true
	}
	for _, x := range b {
		if !set[x] {
			return false
		}
	}
	return len(set) == len(b)
}

func TestLoadConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	got := make([]*Service, 16)
	for i := range got {
		wg.Add(1)
		go func() { defer wg.Done(); got[i] = MustLoad("iam") }()
	}
	wg.Wait()
	for _, s := range got {
		if s != got[0] {
			t.Fatal("Load returned different instances")
		}
	}
}

func BenchmarkDecodeJSONDescribeAccount(b *testing.B) {
	in := input(b, "organizations", "DescribeAccount")
	body := []byte(`{"AccountId":"123456789012"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := in.DecodeJSON(body); err != nil {
			b.Fatal(err)
		}
	}
}
