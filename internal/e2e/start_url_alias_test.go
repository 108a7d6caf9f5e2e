package e2e

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sso"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/ssooidc"
	oidctypes "github.com/aws/aws-sdk-go-v2/service/ssooidc/types"

	"github.com/atrium-sso/atrium/internal/oauth"
	"github.com/atrium-sso/atrium/internal/store"
)

// A node served with --start-url-alias (AWS CLI ≥ 2.35.13 only takes an
// AWS-owned start URL, which it never contacts) knows itself by that
// alias: the Go SDK's sso-oidc client registers with it as issuerUrl and
// starts a device login with it as startUrl, and Atrium records both as
// its own start URL; the login then goes through to the portal API. A
// start URL it does not know is recorded as sent, as before, and one that
// is no URL is still refused.
func TestStartURLAliasIsThisInstance(t *testing.T) {
	const alias = "https://acme.awsapps.com/start"
	o := nodeOptions{args: []string{"--start-url-alias", alias}, env: []string{"ATRIUM_START_URL_ALIAS=https://ignored.awsapps.com/start"}}
	n := startNode(t, o)
	f := newAccessFixture(t, n)
	staging := f.account("Staging")
	alice := f.user("alice")
	f.assign(staging, f.permissionSet("Developer", "PT1H", "arn:aws:iam::aws:policy/ReadOnlyAccess"), types.PrincipalTypeUser, alice)
	desk := openDesk(t, n, o)
	c := ssooidc.NewFromConfig(unsignedConfig(n))

	// start registers a client with issuerUrl and starts a device login at startURL.
	start := func(startURL string) (*ssooidc.RegisterClientOutput, *ssooidc.StartDeviceAuthorizationOutput, error) {
		t.Helper()
		reg, err := c.RegisterClient(ctxT(t), &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-alias"), ClientType: aws.String("public"),
			Scopes: []string{"sso:account:access"}, IssuerUrl: aws.String(startURL)})
		if err != nil {
			t.Fatalf("RegisterClient with issuerUrl %s: %v", startURL, err)
		}
		out, err := c.StartDeviceAuthorization(ctxT(t), &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
			StartUrl: aws.String(startURL)})
		return reg, out, err
	}
	recorded := func(reg *ssooidc.RegisterClientOutput, userCode string) (issuer, startURL string) {
		t.Helper()
		err := desk.db.Read(ctxT(t), func(tx store.Tx) error {
			cl, err := tx.GetOAuthClient(ctxT(t), *reg.ClientId)
			if err != nil {
				return err
			}
			d, err := tx.GetDeviceAuthorizationByUserCode(ctxT(t), userCode)
			if err != nil {
				return err
			}
			issuer, startURL = cl.IssuerURL, d.StartURL
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return issuer, startURL
	}

	for _, sent := range []string{alias, "https://ACME.awsapps.com/start/"} {
		reg, dev, err := start(sent)
		if err != nil {
			t.Fatalf("StartDeviceAuthorization at the alias %s: %v", sent, err)
		}
		if issuer, startURL := recorded(reg, *dev.UserCode); issuer != n.URL+"/start" || startURL != n.URL+"/start" {
			t.Fatalf("the alias %s was recorded as issuer %q and start URL %q; want this instance's %s/start", sent, issuer, startURL, n.URL)
		}
		grant, err := desk.oauth.DeviceGrant(ctxT(t), *dev.UserCode)
		if err != nil || grant.StartURL != n.URL+"/start" {
			t.Fatalf("the approval page's grant: %+v, %v", grant, err)
		}
		if err := desk.oauth.ApproveDevice(ctxT(t), *dev.UserCode, desk.signIn(f.storeID, alice)); err != nil {
			t.Fatal(err)
		}
		tok, err := c.CreateToken(ctxT(t), &ssooidc.CreateTokenInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
			GrantType: aws.String(oauth.GrantDeviceCode), DeviceCode: dev.DeviceCode})
		if err != nil {
			t.Fatal(err)
		}
		accts, err := sso.NewFromConfig(unsignedConfig(n)).ListAccounts(ctxT(t), &sso.ListAccountsInput{AccessToken: tok.AccessToken})
		if err != nil || len(accts.AccountList) != 1 || *accts.AccountList[0].AccountId != staging {
			t.Fatalf("ListAccounts after logging in at the alias: %+v, %v", accts, err)
		}
	}

	// The flag wins over the environment: that alias is not this instance.
	for _, other := range []string{"https://ignored.awsapps.com/start", "https://other.awsapps.com/start"} {
		reg, dev, err := start(other)
		if err != nil {
			t.Fatalf("StartDeviceAuthorization at %s (accepted before aliases): %v", other, err)
		}
		if issuer, startURL := recorded(reg, *dev.UserCode); issuer != other || startURL != other {
			t.Fatalf("an unknown start URL was recorded as issuer %q and start URL %q", issuer, startURL)
		}
	}
	reg, err := c.RegisterClient(ctxT(t), &ssooidc.RegisterClientInput{ClientName: aws.String("botocore-client-alias"), ClientType: aws.String("public")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.StartDeviceAuthorization(ctxT(t), &ssooidc.StartDeviceAuthorizationInput{ClientId: reg.ClientId, ClientSecret: reg.ClientSecret,
		StartUrl: aws.String("acme.awsapps.com/start")})
	var invalid *oidctypes.InvalidRequestException
	if !errors.As(err, &invalid) {
		t.Fatalf("a start URL that is no URL: %v; want InvalidRequestException", err)
	}
}
