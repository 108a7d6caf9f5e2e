package model_test

import (
	"encoding/json"
	"net/url"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	idstypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
)

func fuzzShapes() []*model.Shape {
	in := func(svc, op string) *model.Shape { return model.MustLoad(svc).Operation(op).Input }
	return []*model.Shape{
		in("organizations", "CreateAccount"), in("organizations", "ListAccounts"), in("organizations", "DescribeAccount"),
		in("organizations", "InviteOrganizationToTransferResponsibility"),
		in("identitystore", "CreateUser"), in("identitystore", "CreateGroupMembership"), in("identitystore", "UpdateUser"),
		in("sso-admin", "CreateAccountAssignment"), in("sso-oidc", "CreateToken"),
		in("sts", "AssumeRole"), in("iam", "CreateRole"), in("iam", "SimulatePrincipalPolicy"),
		model.SyntheticQuery().Operation("Op").Input,
	}
}

// onlyAPIErrors fails unless err is nil or an *apierr.Error of the two
// input-error kinds.
func onlyAPIErrors(t *testing.T, err error) {
	if err == nil {
		return
	}
	e, ok := err.(*apierr.Error)
	if !ok || (e.Code != "ValidationException" && e.Code != "SerializationException") || e.Status != 400 {
		t.Fatalf("unexpected error %T %v", err, err)
	}
}

// reencode checks that a decoded value is stable: it validates as is, and
// its JSON form decodes back to the same value.
func reencode(t *testing.T, s *model.Shape, v map[string]any) {
	if err := s.Validate(v); err != nil {
		t.Fatalf("decoded value does not validate: %v", err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("decoded value does not marshal: %v", err)
	}
	again, err := s.DecodeJSON(b)
	if err != nil {
		t.Fatalf("re-decoding %s: %v", b, err)
	}
	if !reflect.DeepEqual(v, again) {
		t.Fatalf("re-decoding changed the value:\n%#v\n%#v", v, again)
	}
	s.Redact(v)
}

func FuzzDecodeJSON(f *testing.F) {
	rec := newRecorder(f)
	org := organizations.New(organizations.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(rec.URL), Retryer: aws.NopRetryer{}})
	org.CreateAccount(ctx, &organizations.CreateAccountInput{Email: aws.String("a@example.com"), AccountName: aws.String("x"),
		IamUserAccessToBilling: orgtypes.IAMUserAccessToBillingDeny, Tags: []orgtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	f.Add(rec.take().body)
	org.ListAccounts(ctx, &organizations.ListAccountsInput{MaxResults: aws.Int32(3)})
	f.Add(rec.take().body)
	ids := identitystore.New(identitystore.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(rec.URL), Retryer: aws.NopRetryer{}})
	ids.CreateUser(ctx, &identitystore.CreateUserInput{IdentityStoreId: aws.String("d-1234567890"), UserName: aws.String("u"),
		Name: &idstypes.Name{GivenName: aws.String("g")}, Emails: []idstypes.Email{{Value: aws.String("e@x.y"), Primary: true}}})
	f.Add(rec.take().body)
	f.Add([]byte(`{"IdentityStoreId":"d-1234567890","Extensions":{"aws:identitystore:enterprise":{"a":[1,{"b":null}]}},"MemberId":{"UserId":"x"}}`))
	f.Add([]byte(`{"StartTimestamp":1.5e9,"MaxResults":1.0,"Attrs":{"a":"b"},"When":-1.5,"Data":"AA==","Ratio":"NaN"}`))
	f.Add([]byte(`{"Operations":[{"AttributePath":"x","AttributeValue":[{}]}],"Tags":[null]}`))
	f.Add([]byte(""))
	f.Add([]byte(`[1]`))
	shapes := fuzzShapes()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, s := range shapes {
			v, err := s.DecodeJSON(body)
			onlyAPIErrors(t, err)
			if err == nil {
				reencode(t, s, v)
			}
		}
	})
}

func FuzzDecodeQuery(f *testing.F) {
	rec := newRecorder(f)
	st := sts.New(sts.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(rec.URL), Retryer: aws.NopRetryer{}})
	st.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::123456789012:role/dev"), RoleSessionName: aws.String("s1"),
		DurationSeconds: aws.Int32(900), Tags: []ststypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
		PolicyArns: []ststypes.PolicyDescriptorType{{Arn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}}, TransitiveTagKeys: []string{"k"}})
	f.Add(string(rec.take().body))
	im := iam.New(iam.Options{Region: "us-east-1", Credentials: creds, BaseEndpoint: aws.String(rec.URL), Retryer: aws.NopRetryer{}})
	im.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String("{}"),
		Tags: []iamtypes.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	f.Add(string(rec.take().body))
	im.SimulatePrincipalPolicy(ctx, &iam.SimulatePrincipalPolicyInput{PolicySourceArn: aws.String("arn:aws:iam::123456789012:user/u"),
		ActionNames: []string{"s3:*"}, ContextEntries: []iamtypes.ContextEntry{{ContextKeyName: aws.String("k"), ContextKeyValues: []string{"v"}}}})
	f.Add(string(rec.take().body))
	f.Add("Attrs.entry.1.key=a&Attrs.entry.1.value=x&Flat.1.Name=c&Flat.1.Val=z&Name.1=n&Other=o&When=2024-01-02T03:04:05.5Z&Data=AAE%3D&Ratio=0.25&Nested.item.1.member.1=p")
	f.Add("Tags=&Names=&Nested.item.2=&Attrs.entry.01.key=a&When=-1.5")
	shapes := fuzzShapes()
	f.Fuzz(func(t *testing.T, raw string) {
		form, _ := url.ParseQuery(raw) // keep what parsed, as a lenient server would
		for _, s := range shapes {
			v, err := s.DecodeQuery(form)
			onlyAPIErrors(t, err)
			if err == nil {
				reencode(t, s, v)
			}
		}
	})
}
