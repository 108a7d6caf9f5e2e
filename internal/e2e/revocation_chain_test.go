package e2e

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/atrium-sso/atrium/internal/store"
)

// Role chaining from portal credentials, two hops deep: the person's
// Identity Center role assumes Hop1, whose session assumes Hop2. Whatever
// revokes the portal credentials revokes both hops within a second:
// removing the assignment the chain began with, or ending the sign-in
// session — not only the latter, which the chain's last hop was once the
// only one checked for.
func TestChainedRoleSessionsEndWithTheirOriginAssignment(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		f := newAccessFixture(t, n)
		staging := f.account("Staging")
		ps := f.permissionSet("Operator", "PT1H", "arn:aws:iam::aws:policy/AdministratorAccess")
		desk := openDesk(t, n, o)
		for i, name := range []string{"Hop1", "Hop2"} {
			putRole(t, desk.db, store.IAMRole{AccountID: staging, Name: name, RoleID: "AROACHAINHOP00000000" + string(rune('1'+i)),
				AssumeRolePolicy: trustAccount(staging), ManagedPolicyARNs: []string{"arn:aws:iam::aws:policy/AdministratorAccess"}, MaxSessionDuration: 3600})
		}

		// chain signs name in, takes portal credentials and assumes both hops.
		chain := func(t *testing.T, name string) (user string, hops []*sts.Client) {
			t.Helper()
			user = f.user(name)
			f.assign(staging, ps, types.PrincipalTypeUser, user)
			tok := deviceLogin(t, n, desk, desk.signIn(f.storeID, user))
			rc, _ := roleCredentials(t, n, *tok.AccessToken, staging, "Operator")
			portalCreds := stsOf(n, rc)
			hop1 := assume(t, portalCreds, "arn:aws:iam::"+staging+":role/Hop1", name+"-1")
			hop1Client := stsWith(withCreds(n, hop1.Credentials))
			hop2 := assume(t, hop1Client, "arn:aws:iam::"+staging+":role/Hop2", name+"-2")
			hop2Client := stsWith(withCreds(n, hop2.Credentials))
			who, err := hop2Client.GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
			if err != nil || *who.Arn != "arn:aws:sts::"+staging+":assumed-role/Hop2/"+name+"-2" {
				t.Fatalf("the second hop: %v, %v", who, err)
			}
			return user, []*sts.Client{portalCreds, hop1Client, hop2Client}
		}
		refused := func(t *testing.T, hops []*sts.Client) {
			t.Helper()
			for i, c := range hops {
				refusedWithin(t, []string{"portal credentials", "first hop", "second hop"}[i], func() error {
					_, err := c.GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{})
					return err
				}, "InvalidClientTokenId")
			}
		}

		t.Run("assignment removed", func(t *testing.T) {
			user, hops := chain(t, "unassigned")
			f.unassign(staging, ps, types.PrincipalTypeUser, user)
			refused(t, hops)
			// Nor can a hop that was live a moment ago start a new chain.
			_, err := hops[2].AssumeRole(ctxT(t), &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + staging + ":role/Hop1"), RoleSessionName: aws.String("again")})
			if err == nil {
				t.Fatal("a revoked second hop assumed another role")
			}
		})
		t.Run("sign-in session revoked", func(t *testing.T) {
			_, hops := chain(t, "revoked")
			env := cliEnv("ATRIUM_ENDPOINT_URL="+n.URL, "AWS_ACCESS_KEY_ID="+n.KeyID, "AWS_SECRET_ACCESS_KEY="+n.Secret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
			mustAtrium(t, env, "session", "revoke", "--user", "revoked")
			refused(t, hops)
		})
		t.Run("another user's assignment removed", func(t *testing.T) {
			_, hops := chain(t, "staying")
			other, _ := chain(t, "other")
			f.unassign(staging, ps, types.PrincipalTypeUser, other)
			time.Sleep(1200 * time.Millisecond) // past every cached check
			for _, c := range hops {
				if _, err := c.GetCallerIdentity(ctxT(t), &sts.GetCallerIdentityInput{}); err != nil {
					t.Fatalf("a chain whose assignment stays was refused: %v", err)
				}
			}
		})
	})
}
