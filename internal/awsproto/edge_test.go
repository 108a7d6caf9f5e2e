package awsproto_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/sso/types"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/awsproto/model"
)

type getRoleCredentialsIn struct {
	RoleName    string `json:"roleName"`
	AccountId   string `json:"accountId"`
	AccessToken string `json:"accessToken"`
}

type roleCredentials struct {
	AccessKeyId     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	SessionToken    string `json:"sessionToken"`
	Expiration      int64  `json:"expiration"`
}

type getRoleCredentialsOut struct {
	RoleCredentials roleCredentials `json:"roleCredentials"`
}

// restJson1 operations are routed by their model's HTTP binding, and their
// query-string and header members reach the handler validated.
func TestRESTRoutingWithTheRealSDK(t *testing.T) {
	var got getRoleCredentialsIn
	portal := &awsproto.Service{
		Model: model.MustLoad("sso"),
		Ops: map[string]awsproto.Handler{
			"GetRoleCredentials": awsproto.Op(func(ctx context.Context, in *getRoleCredentialsIn) (*getRoleCredentialsOut, error) {
				got = *in
				if in.AccessToken != "good-token" {
					return nil, apierr.New(401, "UnauthorizedException", "Session token not found or invalid")
				}
				return &getRoleCredentialsOut{RoleCredentials: roleCredentials{AccessKeyId: "ASIAEXAMPLE", Expiration: 1700000000000}}, nil
			}),
		},
		Unsigned: map[string]bool{"GetRoleCredentials": true},
	}
	edge := &awsproto.Edge{Next: http.NotFoundHandler()}
	edge.Register(portal)
	srv := httptest.NewServer(edge)
	defer srv.Close()

	client := sso.New(sso.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1})
	out, err := client.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{
		AccessToken: aws.String("good-token"), AccountId: aws.String("123456789012"), RoleName: aws.String("Admin")})
	if err != nil {
		t.Fatal(err)
	}
	if got.RoleName != "Admin" || got.AccountId != "123456789012" || got.AccessToken != "good-token" {
		t.Fatalf("handler saw %+v", got)
	}
	if *out.RoleCredentials.AccessKeyId != "ASIAEXAMPLE" || out.RoleCredentials.Expiration != 1700000000000 {
		t.Fatalf("client read %+v", out.RoleCredentials)
	}
	_, err = client.GetRoleCredentials(context.Background(), &sso.GetRoleCredentialsInput{
		AccessToken: aws.String("bad"), AccountId: aws.String("123456789012"), RoleName: aws.String("Admin")})
	var ue *ssotypes.UnauthorizedException
	if !errors.As(err, &ue) {
		t.Fatalf("bad token: %v", err)
	}
	// An operation the service does not serve is not routed.
	resp, err := http.Get(srv.URL + "/assignment/accounts")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("unserved route answered %d", resp.StatusCode)
	}
}
