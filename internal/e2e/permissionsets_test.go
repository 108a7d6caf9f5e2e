package e2e

import (
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"

	"github.com/atrium-sso/atrium/internal/store"
	"github.com/atrium-sso/atrium/internal/store/postgres"
	"github.com/atrium-sso/atrium/internal/store/sqlite"
)

var permissionSetARNPattern = regexp.MustCompile(`^arn:aws:sso:::permissionSet/ssoins-[0-9a-f]{16}/ps-[0-9a-f]{16}$`)

// nodeStore opens the node's database beside it, to set up what the API
// cannot make quickly (2,000 permission sets) or before its time.
func nodeStore(t *testing.T, n *node, o nodeOptions) store.Store {
	t.Helper()
	var db store.Store
	var err error
	if o.database != "" {
		db, err = postgres.Open(ctxT(t), o.database)
	} else {
		db, err = sqlite.Open(ctxT(t), filepath.Join(n.Data, "atrium.db"))
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func (f *accessFixture) describe(ps string) *types.PermissionSet {
	f.t.Helper()
	out, err := f.sso.DescribePermissionSet(ctxT(f.t), &ssoadmin.DescribePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps})
	if err != nil {
		f.t.Fatalf("DescribePermissionSet: %v", err)
	}
	return out.PermissionSet
}

func (f *accessFixture) tags(resource string) map[string]string {
	f.t.Helper()
	out, err := f.sso.ListTagsForResource(ctxT(f.t), &ssoadmin.ListTagsForResourceInput{InstanceArn: &f.instance, ResourceArn: &resource})
	if err != nil {
		f.t.Fatalf("ListTagsForResource: %v", err)
	}
	tags := map[string]string{}
	for _, tg := range out.Tags {
		tags[*tg.Key] = *tg.Value
	}
	return tags
}

func TestPermissionSetLifecycle(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		f := newAccessFixture(t, startNode(t, o))
		ctx := ctxT(t)
		before := time.Now().Add(-time.Second)
		out, err := f.sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: &f.instance, Name: aws.String("DeveloperAccess"),
			Description: aws.String("Build and ship"), SessionDuration: aws.String("PT4H"),
			RelayState: aws.String("https://us-east-1.console.aws.amazon.com/ec2/"),
			Tags:       []types.Tag{{Key: aws.String("team"), Value: aws.String("platform")}, {Key: aws.String("empty"), Value: aws.String("")}}})
		if err != nil {
			t.Fatalf("CreatePermissionSet: %v", err)
		}
		ps := out.PermissionSet
		instanceID := strings.TrimPrefix(f.instance, "arn:aws:sso:::instance/")
		if !permissionSetARNPattern.MatchString(*ps.PermissionSetArn) || !strings.Contains(*ps.PermissionSetArn, "/"+instanceID+"/") ||
			*ps.Name != "DeveloperAccess" || *ps.Description != "Build and ship" || *ps.SessionDuration != "PT4H" ||
			*ps.RelayState != "https://us-east-1.console.aws.amazon.com/ec2/" || ps.CreatedDate == nil || ps.CreatedDate.Before(before) {
			t.Fatalf("created %+v", ps)
		}
		arn := *ps.PermissionSetArn
		if got := f.describe(arn); *got.Name != *ps.Name || *got.SessionDuration != "PT4H" || !got.CreatedDate.Equal(*ps.CreatedDate) ||
			*got.RelayState != *ps.RelayState || *got.Description != *ps.Description {
			t.Fatalf("described %+v, created %+v", got, ps)
		}
		if tags := f.tags(arn); len(tags) != 2 || tags["team"] != "platform" || tags["empty"] != "" {
			t.Fatalf("tags = %v", tags)
		}

		// Defaults: one hour, no description or relay state.
		plain := f.describe(f.permissionSet("ReadOnly", ""))
		if aws.ToString(plain.SessionDuration) != "PT1H" || plain.Description != nil || plain.RelayState != nil {
			t.Fatalf("defaults = %+v", plain)
		}

		// Names are unique in the instance, with AWS's words.
		_, err = f.sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: &f.instance, Name: aws.String("DeveloperAccess")})
		if e := wantErr[*types.ConflictException](t, "same name", err); aws.ToString(e.Message) != "PermissionSet with name DeveloperAccess already exists." {
			t.Fatalf("conflict message %q", aws.ToString(e.Message))
		}
		for _, name := range []string{"has space", "slash/name", strings.Repeat("n", 33)} {
			_, err = f.sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: &f.instance, Name: &name})
			wantErr[*types.ValidationException](t, "name "+name, err)
		}
		for _, d := range []string{"PT59M", "PT13H", "P1D", "1h", "PT1.5H", "-PT2H", "PT"} {
			_, err = f.sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: &f.instance, Name: aws.String("Bad"), SessionDuration: &d})
			wantErr[*types.ValidationException](t, "create with session duration "+d, err)
			_, err = f.sso.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &arn, SessionDuration: &d})
			wantErr[*types.ValidationException](t, "update to session duration "+d, err)
		}
		for _, d := range []string{"PT12H", "PT90M", "PT3600S", "PT2H30M"} {
			if _, err := f.sso.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &arn,
				SessionDuration: &d}); err != nil {
				t.Fatalf("session duration %s: %v", d, err)
			}
		}

		// A partial update changes only what it names.
		if _, err := f.sso.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &arn,
			Description: aws.String("Build, ship and run")}); err != nil {
			t.Fatalf("UpdatePermissionSet: %v", err)
		}
		got := f.describe(arn)
		if *got.Description != "Build, ship and run" || *got.SessionDuration != "PT2H30M" || *got.RelayState != *ps.RelayState || *got.Name != "DeveloperAccess" {
			t.Fatalf("after updating the description: %+v", got)
		}
		if _, err := f.sso.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &arn,
			RelayState: aws.String("https://console.aws.amazon.com/s3/")}); err != nil {
			t.Fatalf("UpdatePermissionSet: %v", err)
		}
		if got := f.describe(arn); *got.Description != "Build, ship and run" || *got.SessionDuration != "PT2H30M" || *got.RelayState != "https://console.aws.amazon.com/s3/" {
			t.Fatalf("after updating the relay state: %+v", got)
		}

		// Unknown permission sets and instances.
		missing := "arn:aws:sso:::permissionSet/" + instanceID + "/ps-0000000000000000"
		otherInstance := "arn:aws:sso:::instance/ssoins-0000000000000000"
		for what, call := range map[string]func(instance, ps string) error{
			"describe": func(i, p string) error {
				_, err := f.sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: &i, PermissionSetArn: &p})
				return err
			},
			"update": func(i, p string) error {
				_, err := f.sso.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: &i, PermissionSetArn: &p, Description: aws.String("x")})
				return err
			},
			"delete": func(i, p string) error {
				_, err := f.sso.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: &i, PermissionSetArn: &p})
				return err
			},
			"list managed": func(i, p string) error {
				_, err := f.sso.ListManagedPoliciesInPermissionSet(ctx, &ssoadmin.ListManagedPoliciesInPermissionSetInput{InstanceArn: &i, PermissionSetArn: &p})
				return err
			},
			"attach managed": func(i, p string) error {
				_, err := f.sso.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: &i, PermissionSetArn: &p,
					ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
				return err
			},
			"list customer": func(i, p string) error {
				_, err := f.sso.ListCustomerManagedPolicyReferencesInPermissionSet(ctx, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{
					InstanceArn: &i, PermissionSetArn: &p})
				return err
			},
			"get inline": func(i, p string) error {
				_, err := f.sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: &i, PermissionSetArn: &p})
				return err
			},
			"delete boundary": func(i, p string) error {
				_, err := f.sso.DeletePermissionsBoundaryFromPermissionSet(ctx, &ssoadmin.DeletePermissionsBoundaryFromPermissionSetInput{
					InstanceArn: &i, PermissionSetArn: &p})
				return err
			},
			"list tags": func(i, p string) error {
				_, err := f.sso.ListTagsForResource(ctx, &ssoadmin.ListTagsForResourceInput{InstanceArn: &i, ResourceArn: &p})
				return err
			},
		} {
			wantErr[*types.ResourceNotFoundException](t, what+" of an unknown permission set", call(f.instance, missing))
			wantErr[*types.ResourceNotFoundException](t, what+" in an unknown instance", call(otherInstance, arn))
			// A permission set named under another instance is not this one's.
			wantErr[*types.ResourceNotFoundException](t, what+" of another instance's permission set",
				call(f.instance, strings.Replace(arn, instanceID, "ssoins-0000000000000000", 1)))
		}
		_, err = f.sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: &otherInstance, Name: aws.String("Nowhere")})
		wantErr[*types.ResourceNotFoundException](t, "create in an unknown instance", err)
		_, err = f.sso.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: &otherInstance})
		wantErr[*types.ResourceNotFoundException](t, "list in an unknown instance", err)

		// Delete: gone, with its tags; the name is free again.
		if _, err := f.sso.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &arn}); err != nil {
			t.Fatalf("DeletePermissionSet: %v", err)
		}
		_, err = f.sso.DescribePermissionSet(ctx, &ssoadmin.DescribePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &arn})
		wantErr[*types.ResourceNotFoundException](t, "describe after delete", err)
		_, err = f.sso.DeletePermissionSet(ctx, &ssoadmin.DeletePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &arn})
		wantErr[*types.ResourceNotFoundException](t, "delete twice", err)
		again := f.permissionSet("DeveloperAccess", "")
		if again == arn || len(f.tags(again)) != 0 {
			t.Fatalf("recreated %s (was %s) with tags %v", again, arn, f.tags(again))
		}
	})
}

func TestListPermissionSetsPages(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		f := newAccessFixture(t, startNode(t, o))
		want := map[string]bool{}
		for i := range 7 {
			want[f.permissionSet(fmt.Sprintf("Set%d", i), "")] = true
		}
		var got []string
		pages := 0
		p := ssoadmin.NewListPermissionSetsPaginator(f.sso, &ssoadmin.ListPermissionSetsInput{InstanceArn: &f.instance, MaxResults: aws.Int32(3)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctxT(t))
			if err != nil {
				t.Fatalf("ListPermissionSets page %d: %v", pages+1, err)
			}
			if len(page.PermissionSets) > 3 {
				t.Fatalf("page of %d with MaxResults 3", len(page.PermissionSets))
			}
			got = append(got, page.PermissionSets...)
			pages++
		}
		slices.Sort(got)
		if pages != 3 || len(got) != 7 || len(slices.Compact(slices.Clone(got))) != 7 {
			t.Fatalf("%d pages, %d permission sets: %v", pages, len(got), got)
		}
		for _, arn := range got {
			if !want[arn] {
				t.Fatalf("listed %s, not created", arn)
			}
		}
		all, err := f.sso.ListPermissionSets(ctxT(t), &ssoadmin.ListPermissionSetsInput{InstanceArn: &f.instance})
		if err != nil || len(all.PermissionSets) != 7 || all.NextToken != nil {
			t.Fatalf("one page = %+v, %v", all, err)
		}
		_, err = f.sso.ListPermissionSets(ctxT(t), &ssoadmin.ListPermissionSetsInput{InstanceArn: &f.instance, NextToken: aws.String("forged")})
		wantErr[*types.ValidationException](t, "forged NextToken", err)
		for _, max := range []int32{0, 101} {
			_, err = f.sso.ListPermissionSets(ctxT(t), &ssoadmin.ListPermissionSetsInput{InstanceArn: &f.instance, MaxResults: aws.Int32(max)})
			wantErr[*types.ValidationException](t, fmt.Sprintf("MaxResults %d", max), err)
		}
	})
}

// An instance holds at most 2,000 permission sets.
func TestPermissionSetQuota(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		f := newAccessFixture(t, n)
		now := time.Now().UTC()
		err := nodeStore(t, n, o).Write(ctxT(t), func(tx store.Tx) error {
			for i := range 1999 {
				ps := store.PermissionSet{InstanceARN: f.instance, ARN: fmt.Sprintf("%s/ps-%016x", strings.Replace(f.instance, ":instance/", ":permissionSet/", 1), i),
					Name: fmt.Sprintf("Seeded%d", i), SessionDuration: "PT1H", Version: 1, CreatedAt: now, UpdatedAt: now}
				if err := tx.InsertPermissionSet(ctxT(t), ps); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		f.permissionSet("TheTwoThousandth", "")
		_, err = f.sso.CreatePermissionSet(ctxT(t), &ssoadmin.CreatePermissionSetInput{InstanceArn: &f.instance, Name: aws.String("OneTooMany")})
		wantErr[*types.ServiceQuotaExceededException](t, "permission set 2,001", err)
	})
}

// A permission set still assigned or provisioned to an account cannot be
// deleted. The records are written beside the API, so the rule is tested
// apart from the provisioning engine; TestDeleteAssignedPermissionSet
// drives the same rule through CreateAccountAssignment.
func TestDeletePermissionSetInUse(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		f := newAccessFixture(t, n)
		db := nodeStore(t, n, o)
		ps := f.permissionSet("InUse", "")
		account := "111122223333"
		del := func() error {
			_, err := f.sso.DeletePermissionSet(ctxT(t), &ssoadmin.DeletePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps})
			return err
		}
		a := store.AccountAssignment{InstanceARN: f.instance, AccountID: account, PermissionSetARN: ps, PrincipalType: "USER",
			PrincipalID: f.user("alice"), CreatedAt: time.Now().UTC()}
		seed := func(fn func(tx store.Tx) error) {
			if err := db.Write(ctxT(t), fn); err != nil {
				t.Fatal(err)
			}
		}
		seed(func(tx store.Tx) error { return tx.InsertAssignment(ctxT(t), a) })
		e := wantErr[*types.ConflictException](t, "delete while assigned", del())
		if aws.ToString(e.Message) != "Could not delete because PermissionSet has ApplicationProfile associated with it." {
			t.Fatalf("conflict message %q", aws.ToString(e.Message))
		}
		seed(func(tx store.Tx) error {
			if err := tx.DeleteAssignment(ctxT(t), a); err != nil {
				return err
			}
			return tx.PutProvisioned(ctxT(t), store.Provisioned{InstanceARN: f.instance, AccountID: account, PermissionSetARN: ps,
				RoleName: "AWSReservedSSO_InUse_0123456789abcdef", Version: 1, ProvisionedAt: time.Now().UTC()})
		})
		wantErr[*types.ConflictException](t, "delete while provisioned", del())
		seed(func(tx store.Tx) error { return tx.DeleteProvisioned(ctxT(t), f.instance, account, ps) })
		if err := del(); err != nil {
			t.Fatalf("delete when unused: %v", err)
		}
	})
}

// The same rule through the API: assigned, the permission set stays; once
// its last assignment is deleted (and its role with it), it can go.
func TestDeleteAssignedPermissionSet(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		f := newAccessFixture(t, startNode(t, o))
		ps := f.permissionSet("Assigned", "")
		account, user := f.account("Staging"), f.user("dev")
		if s := f.assign(account, ps, types.PrincipalTypeUser, user); s.Status != types.StatusValuesSucceeded {
			t.Fatalf("assignment = %+v", s)
		}
		del := func() error {
			_, err := f.sso.DeletePermissionSet(ctxT(t), &ssoadmin.DeletePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps})
			return err
		}
		wantErr[*types.ConflictException](t, "delete while assigned", del())
		f.describe(ps)
		if s := f.unassign(account, ps, types.PrincipalTypeUser, user); s.Status != types.StatusValuesSucceeded {
			t.Fatalf("unassignment = %+v", s)
		}
		if err := del(); err != nil {
			t.Fatalf("delete after the last assignment went: %v", err)
		}
	})
}

func TestPermissionSetPolicies(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		f := newAccessFixture(t, startNode(t, o))
		ctx := ctxT(t)
		ps := f.permissionSet("Policies", "")
		psID := ps[strings.LastIndexByte(ps, '/')+1:]

		// AWS managed policies: attached once, listed, detached.
		readOnly, viewOnly := "arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess"
		f.attach(ps, readOnly)
		f.attach(ps, viewOnly)
		attach := func(arn string) error {
			_, err := f.sso.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: &f.instance,
				PermissionSetArn: &ps, ManagedPolicyArn: &arn})
			return err
		}
		e := wantErr[*types.ConflictException](t, "attach twice", attach(readOnly))
		if want := "Permission set with id " + psID + " already has a typed link attachment to a manged policy with " + readOnly; aws.ToString(e.Message) != want {
			t.Fatalf("conflict message %q, want AWS's %q", aws.ToString(e.Message), want)
		}
		wantErr[*types.ResourceNotFoundException](t, "attach a managed policy AWS does not have", attach("arn:aws:iam::aws:policy/NoSuchPolicyAnywhere"))
		wantErr[*types.ValidationException](t, "attach a customer managed policy ARN", attach("arn:aws:iam::123456789012:policy/Mine"))
		managed := func(max int32) []types.AttachedManagedPolicy {
			var all []types.AttachedManagedPolicy
			p := ssoadmin.NewListManagedPoliciesInPermissionSetPaginator(f.sso, &ssoadmin.ListManagedPoliciesInPermissionSetInput{
				InstanceArn: &f.instance, PermissionSetArn: &ps, MaxResults: aws.Int32(max)})
			for p.HasMorePages() {
				page, err := p.NextPage(ctx)
				if err != nil {
					t.Fatalf("ListManagedPoliciesInPermissionSet: %v", err)
				}
				all = append(all, page.AttachedManagedPolicies...)
			}
			return all
		}
		if got := managed(1); len(got) != 2 || *got[0].Arn != readOnly || *got[0].Name != "ReadOnlyAccess" ||
			*got[1].Arn != viewOnly || *got[1].Name != "ViewOnlyAccess" {
			t.Fatalf("managed policies = %+v", got)
		}
		detach := func(arn string) error {
			_, err := f.sso.DetachManagedPolicyFromPermissionSet(ctx, &ssoadmin.DetachManagedPolicyFromPermissionSetInput{InstanceArn: &f.instance,
				PermissionSetArn: &ps, ManagedPolicyArn: &arn})
			return err
		}
		if err := detach(viewOnly); err != nil {
			t.Fatalf("detach: %v", err)
		}
		wantErr[*types.ResourceNotFoundException](t, "detach what is not attached", detach(viewOnly))
		if got := managed(10); len(got) != 1 || *got[0].Arn != readOnly {
			t.Fatalf("after detaching: %+v", got)
		}

		// Customer managed policy references: the path defaults to "/".
		customer := func(call string, name, path string) error {
			ref := &types.CustomerManagedPolicyReference{Name: &name}
			if path != "" {
				ref.Path = &path
			}
			var err error
			if call == "attach" {
				_, err = f.sso.AttachCustomerManagedPolicyReferenceToPermissionSet(ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{
					InstanceArn: &f.instance, PermissionSetArn: &ps, CustomerManagedPolicyReference: ref})
			} else {
				_, err = f.sso.DetachCustomerManagedPolicyReferenceFromPermissionSet(ctx, &ssoadmin.DetachCustomerManagedPolicyReferenceFromPermissionSetInput{
					InstanceArn: &f.instance, PermissionSetArn: &ps, CustomerManagedPolicyReference: ref})
			}
			return err
		}
		if err := customer("attach", "DeployTools", ""); err != nil {
			t.Fatalf("attach customer reference: %v", err)
		}
		if err := customer("attach", "DeployTools", "/team/"); err != nil {
			t.Fatalf("attach the same name at another path: %v", err)
		}
		wantErr[*types.ConflictException](t, "attach a reference twice", customer("attach", "DeployTools", "/"))
		wantErr[*types.ValidationException](t, "a path without slashes", customer("attach", "Other", "team"))
		refs, err := f.sso.ListCustomerManagedPolicyReferencesInPermissionSet(ctx, &ssoadmin.ListCustomerManagedPolicyReferencesInPermissionSetInput{
			InstanceArn: &f.instance, PermissionSetArn: &ps})
		if err != nil || len(refs.CustomerManagedPolicyReferences) != 2 {
			t.Fatalf("references = %+v, %v", refs, err)
		}
		paths := map[string]bool{}
		for _, r := range refs.CustomerManagedPolicyReferences {
			paths[*r.Path] = *r.Name == "DeployTools"
		}
		if !paths["/"] || !paths["/team/"] {
			t.Fatalf("references = %+v", refs.CustomerManagedPolicyReferences)
		}
		if err := customer("detach", "DeployTools", "/team/"); err != nil {
			t.Fatalf("detach reference: %v", err)
		}
		wantErr[*types.ResourceNotFoundException](t, "detach a reference not attached", customer("detach", "DeployTools", "/team/"))

		// At most 20 managed and customer managed policies together.
		for i := 2; i < 20; i++ {
			if err := customer("attach", fmt.Sprintf("Extra%d", i), ""); err != nil {
				t.Fatalf("policy %d: %v", i+1, err)
			}
		}
		wantErr[*types.ServiceQuotaExceededException](t, "a 21st customer reference", customer("attach", "OneTooMany", ""))
		wantErr[*types.ServiceQuotaExceededException](t, "a 21st managed policy", attach(viewOnly))

		// The inline policy: a valid identity policy, read back as written.
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`
		put := func(doc string) error {
			_, err := f.sso.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: &f.instance,
				PermissionSetArn: &ps, InlinePolicy: &doc})
			return err
		}
		getInline := func() *string {
			out, err := f.sso.GetInlinePolicyForPermissionSet(ctx, &ssoadmin.GetInlinePolicyForPermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps})
			if err != nil {
				t.Fatalf("GetInlinePolicyForPermissionSet: %v", err)
			}
			return out.InlinePolicy
		}
		if got := getInline(); aws.ToString(got) != "" {
			t.Fatalf("inline policy before any = %q", *got)
		}
		if err := put(doc); err != nil {
			t.Fatalf("PutInlinePolicyToPermissionSet: %v", err)
		}
		if got := aws.ToString(getInline()); got != doc {
			t.Fatalf("inline policy = %q", got)
		}
		for what, bad := range map[string]string{
			"not JSON":         `{"Version":`,
			"a principal":      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`,
			"no action":        `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Resource":"*"}]}`,
			"a wrong effect":   `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"s3:*","Resource":"*"}]}`,
			"over 32,768 long": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*","Sid":"` + strings.Repeat("a", 32768) + `"}]}`,
		} {
			e := wantErr[*types.ValidationException](t, "inline policy with "+what, put(bad))
			if what != "over 32,768 long" && !strings.HasPrefix(aws.ToString(e.Message), "Invalid PermissionsPolicy Document") {
				t.Fatalf("inline policy with %s: message %q", what, aws.ToString(e.Message))
			}
		}
		if got := aws.ToString(getInline()); got != doc {
			t.Fatalf("a refused policy replaced the inline policy: %q", got)
		}
		deleteInline := func() {
			if _, err := f.sso.DeleteInlinePolicyFromPermissionSet(ctx, &ssoadmin.DeleteInlinePolicyFromPermissionSetInput{InstanceArn: &f.instance,
				PermissionSetArn: &ps}); err != nil {
				t.Fatalf("DeleteInlinePolicyFromPermissionSet: %v", err)
			}
		}
		deleteInline()
		deleteInline() // nothing to delete: still fine
		if got := getInline(); aws.ToString(got) != "" {
			t.Fatalf("inline policy after delete = %q", *got)
		}

		// The permissions boundary: exactly one of a reference or an AWS managed ARN.
		getBoundary := func() (*types.PermissionsBoundary, error) {
			out, err := f.sso.GetPermissionsBoundaryForPermissionSet(ctx, &ssoadmin.GetPermissionsBoundaryForPermissionSetInput{
				InstanceArn: &f.instance, PermissionSetArn: &ps})
			if err != nil {
				return nil, err
			}
			return out.PermissionsBoundary, nil
		}
		putBoundary := func(b *types.PermissionsBoundary) error {
			_, err := f.sso.PutPermissionsBoundaryToPermissionSet(ctx, &ssoadmin.PutPermissionsBoundaryToPermissionSetInput{
				InstanceArn: &f.instance, PermissionSetArn: &ps, PermissionsBoundary: b})
			return err
		}
		_, err = getBoundary()
		wantErr[*types.ResourceNotFoundException](t, "boundary before any", err)
		if err := putBoundary(&types.PermissionsBoundary{CustomerManagedPolicyReference: &types.CustomerManagedPolicyReference{Name: aws.String("Limits")}}); err != nil {
			t.Fatalf("put a customer managed boundary: %v", err)
		}
		if b, err := getBoundary(); err != nil || b.ManagedPolicyArn != nil || *b.CustomerManagedPolicyReference.Name != "Limits" ||
			*b.CustomerManagedPolicyReference.Path != "/" {
			t.Fatalf("boundary = %+v, %v", b, err)
		}
		if err := putBoundary(&types.PermissionsBoundary{ManagedPolicyArn: &readOnly}); err != nil {
			t.Fatalf("put an AWS managed boundary: %v", err)
		}
		if b, err := getBoundary(); err != nil || aws.ToString(b.ManagedPolicyArn) != readOnly || b.CustomerManagedPolicyReference != nil {
			t.Fatalf("boundary = %+v, %v", b, err)
		}
		wantErr[*types.ValidationException](t, "a boundary of both kinds", putBoundary(&types.PermissionsBoundary{ManagedPolicyArn: &readOnly,
			CustomerManagedPolicyReference: &types.CustomerManagedPolicyReference{Name: aws.String("Limits")}}))
		wantErr[*types.ValidationException](t, "an empty boundary", putBoundary(&types.PermissionsBoundary{}))
		wantErr[*types.ResourceNotFoundException](t, "a boundary AWS does not have",
			putBoundary(&types.PermissionsBoundary{ManagedPolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicyAnywhere")}))
		for range 2 {
			if _, err := f.sso.DeletePermissionsBoundaryFromPermissionSet(ctx, &ssoadmin.DeletePermissionsBoundaryFromPermissionSetInput{
				InstanceArn: &f.instance, PermissionSetArn: &ps}); err != nil {
				t.Fatalf("DeletePermissionsBoundaryFromPermissionSet: %v", err)
			}
		}
		_, err = getBoundary()
		wantErr[*types.ResourceNotFoundException](t, "boundary after delete", err)
	})
}

// Every change that a provisioned role must follow leaves the accounts the
// permission set is provisioned to outdated until it is provisioned again;
// tags are not part of the role.
func TestPermissionSetChangesOutdateProvisionedAccounts(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		f := newAccessFixture(t, n)
		db := nodeStore(t, n, o)
		ctx := ctxT(t)
		ps := f.permissionSet("Followed", "")
		account := "111122223333"
		// markCurrent records the permission set's current version as provisioned.
		markCurrent := func() {
			t.Helper()
			err := db.Write(ctx, func(tx store.Tx) error {
				cur, err := tx.GetPermissionSet(ctx, f.instance, ps)
				if err != nil {
					return err
				}
				return tx.PutProvisioned(ctx, store.Provisioned{InstanceARN: f.instance, AccountID: account, PermissionSetARN: ps,
					RoleName: "AWSReservedSSO_Followed_0123456789abcdef", Version: cur.Version, ProvisionedAt: time.Now().UTC()})
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.provisionedAccounts(ps, types.ProvisioningStatusLatestPermissionSetProvisioned); !slices.Equal(got, []string{account}) {
				t.Fatalf("current accounts = %v", got)
			}
		}
		readOnly := "arn:aws:iam::aws:policy/ReadOnlyAccess"
		ref := &types.CustomerManagedPolicyReference{Name: aws.String("DeployTools")}
		doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListAllMyBuckets","Resource":"*"}]}`
		for _, c := range []struct {
			what    string
			outdate bool
			call    func() error
		}{
			{"description", true, func() error {
				_, err := f.sso.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps, Description: aws.String("d")})
				return err
			}},
			{"session duration", true, func() error {
				_, err := f.sso.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps, SessionDuration: aws.String("PT8H")})
				return err
			}},
			{"the same session duration again", false, func() error {
				_, err := f.sso.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps, SessionDuration: aws.String("PT8H")})
				return err
			}},
			{"relay state", true, func() error {
				_, err := f.sso.UpdatePermissionSet(ctx, &ssoadmin.UpdatePermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps, RelayState: aws.String("https://console.aws.amazon.com/")})
				return err
			}},
			{"attach managed", true, func() error {
				_, err := f.sso.AttachManagedPolicyToPermissionSet(ctx, &ssoadmin.AttachManagedPolicyToPermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps, ManagedPolicyArn: &readOnly})
				return err
			}},
			{"detach managed", true, func() error {
				_, err := f.sso.DetachManagedPolicyFromPermissionSet(ctx, &ssoadmin.DetachManagedPolicyFromPermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps, ManagedPolicyArn: &readOnly})
				return err
			}},
			{"attach customer", true, func() error {
				_, err := f.sso.AttachCustomerManagedPolicyReferenceToPermissionSet(ctx, &ssoadmin.AttachCustomerManagedPolicyReferenceToPermissionSetInput{
					InstanceArn: &f.instance, PermissionSetArn: &ps, CustomerManagedPolicyReference: ref})
				return err
			}},
			{"detach customer", true, func() error {
				_, err := f.sso.DetachCustomerManagedPolicyReferenceFromPermissionSet(ctx, &ssoadmin.DetachCustomerManagedPolicyReferenceFromPermissionSetInput{
					InstanceArn: &f.instance, PermissionSetArn: &ps, CustomerManagedPolicyReference: ref})
				return err
			}},
			{"put inline", true, func() error {
				_, err := f.sso.PutInlinePolicyToPermissionSet(ctx, &ssoadmin.PutInlinePolicyToPermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps, InlinePolicy: &doc})
				return err
			}},
			{"delete inline", true, func() error {
				_, err := f.sso.DeleteInlinePolicyFromPermissionSet(ctx, &ssoadmin.DeleteInlinePolicyFromPermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps})
				return err
			}},
			{"put boundary", true, func() error {
				_, err := f.sso.PutPermissionsBoundaryToPermissionSet(ctx, &ssoadmin.PutPermissionsBoundaryToPermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps,
					PermissionsBoundary: &types.PermissionsBoundary{ManagedPolicyArn: &readOnly}})
				return err
			}},
			{"delete boundary", true, func() error {
				_, err := f.sso.DeletePermissionsBoundaryFromPermissionSet(ctx, &ssoadmin.DeletePermissionsBoundaryFromPermissionSetInput{InstanceArn: &f.instance, PermissionSetArn: &ps})
				return err
			}},
			{"tag", false, func() error {
				_, err := f.sso.TagResource(ctx, &ssoadmin.TagResourceInput{InstanceArn: &f.instance, ResourceArn: &ps,
					Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
				return err
			}},
		} {
			markCurrent()
			if err := c.call(); err != nil {
				t.Fatalf("%s: %v", c.what, err)
			}
			outdated := f.provisionedAccounts(ps, types.ProvisioningStatusLatestPermissionSetNotProvisioned)
			if c.outdate != slices.Equal(outdated, []string{account}) {
				t.Fatalf("after %s, outdated accounts = %v (want outdated: %v)", c.what, outdated, c.outdate)
			}
		}
	})
}

func TestInstanceOperations(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		f := newAccessFixture(t, startNode(t, o))
		ctx := ctxT(t)
		describe := func() *ssoadmin.DescribeInstanceOutput {
			out, err := f.sso.DescribeInstance(ctx, &ssoadmin.DescribeInstanceInput{InstanceArn: &f.instance})
			if err != nil {
				t.Fatalf("DescribeInstance: %v", err)
			}
			return out
		}
		d := describe()
		if e := d.EncryptionConfigurationDetails; e == nil || e.KeyType != types.KmsKeyTypeAwsOwnedKmsKey || e.KmsKeyArn != nil ||
			e.EncryptionStatus != types.KmsKeyStatusEnabled {
			t.Fatalf("default encryption = %+v", d.EncryptionConfigurationDetails)
		}
		key := "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		if _, err := f.sso.UpdateInstance(ctx, &ssoadmin.UpdateInstanceInput{InstanceArn: &f.instance, Name: aws.String("Corp"),
			EncryptionConfiguration: &types.EncryptionConfiguration{KeyType: types.KmsKeyTypeCustomerManagedKey, KmsKeyArn: &key}}); err != nil {
			t.Fatalf("UpdateInstance: %v", err)
		}
		d = describe()
		if aws.ToString(d.Name) != "Corp" || d.EncryptionConfigurationDetails.KeyType != types.KmsKeyTypeCustomerManagedKey ||
			aws.ToString(d.EncryptionConfigurationDetails.KmsKeyArn) != key || aws.ToString(d.IdentityStoreId) != f.storeID {
			t.Fatalf("after update: %+v %+v", d, d.EncryptionConfigurationDetails)
		}
		// Renaming alone keeps the key.
		if _, err := f.sso.UpdateInstance(ctx, &ssoadmin.UpdateInstanceInput{InstanceArn: &f.instance, Name: aws.String("Corp2")}); err != nil {
			t.Fatalf("UpdateInstance name: %v", err)
		}
		if d = describe(); aws.ToString(d.Name) != "Corp2" || aws.ToString(d.EncryptionConfigurationDetails.KmsKeyArn) != key {
			t.Fatalf("after renaming: %+v %+v", d, d.EncryptionConfigurationDetails)
		}
		_, err := f.sso.UpdateInstance(ctx, &ssoadmin.UpdateInstanceInput{InstanceArn: &f.instance,
			EncryptionConfiguration: &types.EncryptionConfiguration{KeyType: types.KmsKeyTypeCustomerManagedKey}})
		wantErr[*types.ValidationException](t, "customer managed key without its ARN", err)
		_, err = f.sso.UpdateInstance(ctx, &ssoadmin.UpdateInstanceInput{InstanceArn: &f.instance,
			EncryptionConfiguration: &types.EncryptionConfiguration{KeyType: types.KmsKeyTypeAwsOwnedKmsKey, KmsKeyArn: &key}})
		wantErr[*types.ValidationException](t, "AWS owned key with a key ARN", err)
		_, err = f.sso.UpdateInstance(ctx, &ssoadmin.UpdateInstanceInput{InstanceArn: &f.instance,
			EncryptionConfiguration: &types.EncryptionConfiguration{KeyType: types.KmsKeyTypeCustomerManagedKey, KmsKeyArn: aws.String("arn:aws:kms:us-east-1:111122223333:alias/mine")}})
		wantErr[*types.ValidationException](t, "a key alias", err)
		if _, err := f.sso.UpdateInstance(ctx, &ssoadmin.UpdateInstanceInput{InstanceArn: &f.instance,
			EncryptionConfiguration: &types.EncryptionConfiguration{KeyType: types.KmsKeyTypeAwsOwnedKmsKey}}); err != nil {
			t.Fatalf("back to the AWS owned key: %v", err)
		}
		if e := describe().EncryptionConfigurationDetails; e.KeyType != types.KmsKeyTypeAwsOwnedKmsKey || e.KmsKeyArn != nil {
			t.Fatalf("after going back: %+v", e)
		}
		_, err = f.sso.UpdateInstance(ctx, &ssoadmin.UpdateInstanceInput{InstanceArn: aws.String("arn:aws:sso:::instance/ssoins-0000000000000000"), Name: aws.String("X")})
		wantErr[*types.ResourceNotFoundException](t, "update an unknown instance", err)

		// The organization instance is neither created nor deleted through the API.
		const refusal = "Organization management account is not allowed to perform the operation."
		_, err = f.sso.CreateInstance(ctx, &ssoadmin.CreateInstanceInput{Name: aws.String("Another")})
		if e := wantErr[*types.ValidationException](t, "CreateInstance from the management account", err); aws.ToString(e.Message) != refusal {
			t.Fatalf("CreateInstance message %q", aws.ToString(e.Message))
		}
		_, err = f.sso.DeleteInstance(ctx, &ssoadmin.DeleteInstanceInput{InstanceArn: &f.instance})
		if e := wantErr[*types.ValidationException](t, "DeleteInstance of the organization instance", err); aws.ToString(e.Message) != refusal {
			t.Fatalf("DeleteInstance message %q", aws.ToString(e.Message))
		}
		_, err = f.sso.DeleteInstance(ctx, &ssoadmin.DeleteInstanceInput{InstanceArn: aws.String("arn:aws:sso:::instance/ssoins-0000000000000000")})
		wantErr[*types.ResourceNotFoundException](t, "delete an unknown instance", err)
		if list, err := f.sso.ListInstances(ctx, &ssoadmin.ListInstancesInput{}); err != nil || len(list.Instances) != 1 {
			t.Fatalf("instances after the refusals = %+v, %v", list, err)
		}
	})
}

func TestAccessControlAttributes(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		f := newAccessFixture(t, startNode(t, o))
		ctx := ctxT(t)
		attr := func(key, source string) types.AccessControlAttribute {
			return types.AccessControlAttribute{Key: &key, Value: &types.AccessControlAttributeValue{Source: []string{source}}}
		}
		config := func(attrs ...types.AccessControlAttribute) *types.InstanceAccessControlAttributeConfiguration {
			return &types.InstanceAccessControlAttributeConfiguration{AccessControlAttributes: append([]types.AccessControlAttribute{}, attrs...)}
		}
		create := func(c *types.InstanceAccessControlAttributeConfiguration) error {
			_, err := f.sso.CreateInstanceAccessControlAttributeConfiguration(ctx, &ssoadmin.CreateInstanceAccessControlAttributeConfigurationInput{
				InstanceArn: &f.instance, InstanceAccessControlAttributeConfiguration: c})
			return err
		}
		update := func(c *types.InstanceAccessControlAttributeConfiguration) error {
			_, err := f.sso.UpdateInstanceAccessControlAttributeConfiguration(ctx, &ssoadmin.UpdateInstanceAccessControlAttributeConfigurationInput{
				InstanceArn: &f.instance, InstanceAccessControlAttributeConfiguration: c})
			return err
		}
		describe := func() (*ssoadmin.DescribeInstanceAccessControlAttributeConfigurationOutput, error) {
			return f.sso.DescribeInstanceAccessControlAttributeConfiguration(ctx, &ssoadmin.DescribeInstanceAccessControlAttributeConfigurationInput{InstanceArn: &f.instance})
		}
		del := func() error {
			_, err := f.sso.DeleteInstanceAccessControlAttributeConfiguration(ctx, &ssoadmin.DeleteInstanceAccessControlAttributeConfigurationInput{InstanceArn: &f.instance})
			return err
		}
		_, err := describe()
		wantErr[*types.ResourceNotFoundException](t, "describe before any", err)
		wantErr[*types.ResourceNotFoundException](t, "update before any", update(config(attr("Team", "${path:enterprise.department}"))))
		wantErr[*types.ResourceNotFoundException](t, "delete before any", del())

		if err := create(config(attr("Team", "${path:enterprise.department}"), attr("CostCenter", "${path:enterprise.costCenter}"))); err != nil {
			t.Fatalf("create: %v", err)
		}
		d, err := describe()
		if err != nil || d.Status != types.InstanceAccessControlAttributeConfigurationStatusEnabled ||
			len(d.InstanceAccessControlAttributeConfiguration.AccessControlAttributes) != 2 {
			t.Fatalf("described %+v, %v", d, err)
		}
		if a := d.InstanceAccessControlAttributeConfiguration.AccessControlAttributes[0]; *a.Key != "Team" || a.Value.Source[0] != "${path:enterprise.department}" {
			t.Fatalf("first attribute = %+v", a)
		}
		wantErr[*types.ConflictException](t, "create twice", create(config(attr("Team", "${path:enterprise.department}"))))
		wantErr[*types.ValidationException](t, "a key twice", update(config(attr("Team", "a"), attr("team", "b"))))
		many := make([]types.AccessControlAttribute, 51)
		for i := range many {
			many[i] = attr(fmt.Sprintf("k%d", i), "v")
		}
		wantErr[*types.ValidationException](t, "51 attributes", update(config(many...)))
		wantErr[*types.ValidationException](t, "two sources", update(config(types.AccessControlAttribute{Key: aws.String("Team"),
			Value: &types.AccessControlAttributeValue{Source: []string{"a", "b"}}})))

		if err := update(config(attr("Project", "${path:enterprise.division}"))); err != nil {
			t.Fatalf("update: %v", err)
		}
		if d, err = describe(); err != nil || len(d.InstanceAccessControlAttributeConfiguration.AccessControlAttributes) != 1 ||
			*d.InstanceAccessControlAttributeConfiguration.AccessControlAttributes[0].Key != "Project" {
			t.Fatalf("after update: %+v, %v", d, err)
		}
		if err := update(config()); err != nil {
			t.Fatalf("update to no attributes: %v", err)
		}
		if d, err = describe(); err != nil || len(d.InstanceAccessControlAttributeConfiguration.AccessControlAttributes) != 0 {
			t.Fatalf("after emptying: %+v, %v", d, err)
		}
		if err := del(); err != nil {
			t.Fatalf("delete: %v", err)
		}
		_, err = describe()
		wantErr[*types.ResourceNotFoundException](t, "describe after delete", err)
		wantErr[*types.ResourceNotFoundException](t, "delete twice", del())
		_, err = f.sso.DescribeInstanceAccessControlAttributeConfiguration(ctx, &ssoadmin.DescribeInstanceAccessControlAttributeConfigurationInput{
			InstanceArn: aws.String("arn:aws:sso:::instance/ssoins-0000000000000000")})
		wantErr[*types.ResourceNotFoundException](t, "an unknown instance", err)
	})
}

func TestPermissionSetTags(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		f := newAccessFixture(t, startNode(t, o))
		ctx := ctxT(t)
		ps := f.permissionSet("Tagged", "")
		tagsOf := func(n int, prefix string) []types.Tag {
			tags := make([]types.Tag, n)
			for i := range tags {
				tags[i] = types.Tag{Key: aws.String(fmt.Sprintf("%s%02d", prefix, i)), Value: aws.String("v")}
			}
			return tags
		}
		tag := func(instance *string, resource string, tags ...types.Tag) error {
			_, err := f.sso.TagResource(ctx, &ssoadmin.TagResourceInput{InstanceArn: instance, ResourceArn: &resource, Tags: tags})
			return err
		}
		untag := func(resource string, keys ...string) error {
			_, err := f.sso.UntagResource(ctx, &ssoadmin.UntagResourceInput{InstanceArn: &f.instance, ResourceArn: &resource, TagKeys: keys})
			return err
		}
		if err := tag(&f.instance, ps, types.Tag{Key: aws.String("team"), Value: aws.String("a")}, types.Tag{Key: aws.String("env"), Value: aws.String("dev")}); err != nil {
			t.Fatalf("TagResource: %v", err)
		}
		// InstanceArn may be left out; a key tagged again takes the new value.
		if err := tag(nil, ps, types.Tag{Key: aws.String("team"), Value: aws.String("b")}); err != nil {
			t.Fatalf("TagResource without InstanceArn: %v", err)
		}
		if got := f.tags(ps); len(got) != 2 || got["team"] != "b" || got["env"] != "dev" {
			t.Fatalf("tags = %v", got)
		}
		if err := untag(ps, "env", "absent"); err != nil {
			t.Fatalf("UntagResource: %v", err)
		}
		if got := f.tags(ps); len(got) != 1 || got["team"] != "b" {
			t.Fatalf("after untagging: %v", got)
		}

		wantErr[*types.ValidationException](t, "an aws: key", tag(&f.instance, ps, types.Tag{Key: aws.String("aws:owner"), Value: aws.String("x")}))
		wantErr[*types.ValidationException](t, "removing an aws: key", untag(ps, "AWS:owner"))
		wantErr[*types.ValidationException](t, "a key twice in one call", tag(&f.instance, ps, types.Tag{Key: aws.String("k"), Value: aws.String("1")},
			types.Tag{Key: aws.String("k"), Value: aws.String("2")}))
		// 49 more make 50; one more is over the limit, and the call changes nothing.
		if err := tag(&f.instance, ps, tagsOf(49, "k")...); err != nil {
			t.Fatalf("tagging up to 50: %v", err)
		}
		wantErr[*types.ServiceQuotaExceededException](t, "a 51st tag", tag(&f.instance, ps, types.Tag{Key: aws.String("one-more"), Value: aws.String("")}))
		if got := f.tags(ps); len(got) != 50 {
			t.Fatalf("%d tags after refusing the 51st", len(got))
		} else if _, ok := got["one-more"]; ok {
			t.Fatal("the refused tag was kept")
		}
		_, err := f.sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: &f.instance, Name: aws.String("Overtagged"),
			Tags: tagsOf(51, "k")})
		wantErr[*types.ServiceQuotaExceededException](t, "creating with 51 tags", err)
		_, err = f.sso.CreatePermissionSet(ctx, &ssoadmin.CreatePermissionSetInput{InstanceArn: &f.instance, Name: aws.String("AwsTagged"),
			Tags: []types.Tag{{Key: aws.String("aws:cloudformation:stack-name"), Value: aws.String("x")}}})
		wantErr[*types.ValidationException](t, "creating with an aws: tag", err)
		list, err := f.sso.ListPermissionSets(ctx, &ssoadmin.ListPermissionSetsInput{InstanceArn: &f.instance})
		if err != nil || len(list.PermissionSets) != 1 {
			t.Fatalf("refused creations left permission sets: %+v, %v", list, err)
		}

		// The instance takes tags too.
		if err := tag(nil, f.instance, types.Tag{Key: aws.String("owner"), Value: aws.String("platform")}); err != nil {
			t.Fatalf("tagging the instance: %v", err)
		}
		if got := f.tags(f.instance); len(got) != 1 || got["owner"] != "platform" {
			t.Fatalf("instance tags = %v", got)
		}

		// Resources that are not the instance's.
		instanceID := strings.TrimPrefix(f.instance, "arn:aws:sso:::instance/")
		other := "arn:aws:sso:::instance/ssoins-0000000000000000"
		wantErr[*types.ResourceNotFoundException](t, "an unknown permission set",
			tag(&f.instance, "arn:aws:sso:::permissionSet/"+instanceID+"/ps-0000000000000000", types.Tag{Key: aws.String("k"), Value: aws.String("v")}))
		wantErr[*types.ResourceNotFoundException](t, "the permission set under another instance ARN", tag(&other, ps, types.Tag{Key: aws.String("k"), Value: aws.String("v")}))
		wantErr[*types.ResourceNotFoundException](t, "an unknown instance", tag(nil, other, types.Tag{Key: aws.String("k"), Value: aws.String("v")}))
		wantErr[*types.ResourceNotFoundException](t, "an application", tag(&f.instance,
			"arn:aws:sso::111122223333:application/"+instanceID+"/apl-0123456789abcdef", types.Tag{Key: aws.String("k"), Value: aws.String("v")}))
		_, err = f.sso.ListTagsForResource(ctx, &ssoadmin.ListTagsForResourceInput{ResourceArn: &ps, NextToken: aws.String("forged")})
		wantErr[*types.ValidationException](t, "a forged NextToken", err)
	})
}
