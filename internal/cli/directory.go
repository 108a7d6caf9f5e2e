package cli

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/document"
	"github.com/aws/aws-sdk-go-v2/service/identitystore/types"
)

// userID finds a user by user name, as AWS's GetUserId does.
func (c *command) userID(ctx context.Context, name string) (string, error) {
	out, err := c.identitystore().GetUserId(ctx, &identitystore.GetUserIdInput{IdentityStoreId: &c.storeID,
		AlternateIdentifier: &types.AlternateIdentifierMemberUniqueAttribute{Value: types.UniqueAttribute{
			AttributePath: aws.String("userName"), AttributeValue: document.NewLazyDocument(name)}}})
	if err != nil {
		return "", fmt.Errorf("user %q: %s", name, describe(err))
	}
	return aws.ToString(out.UserId), nil
}

// groupID finds a group by display name.
func (c *command) groupID(ctx context.Context, name string) (string, error) {
	out, err := c.identitystore().GetGroupId(ctx, &identitystore.GetGroupIdInput{IdentityStoreId: &c.storeID,
		AlternateIdentifier: &types.AlternateIdentifierMemberUniqueAttribute{Value: types.UniqueAttribute{
			AttributePath: aws.String("displayName"), AttributeValue: document.NewLazyDocument(name)}}})
	if err != nil {
		return "", fmt.Errorf("group %q: %s", name, describe(err))
	}
	return aws.ToString(out.GroupId), nil
}

func createUser(ctx context.Context, c *command) error {
	given, family := c.opt("given-name"), c.opt("family-name")
	if given == "" || family == "" {
		return fmt.Errorf("--given-name and --family-name are required (Identity Center requires a name)")
	}
	display := c.opt("display-name")
	if display == "" {
		display = given + " " + family
	}
	in := &identitystore.CreateUserInput{IdentityStoreId: &c.storeID, UserName: &c.args[0], DisplayName: &display,
		Name: &types.Name{GivenName: &given, FamilyName: &family}}
	if e := c.opt("email"); e != "" {
		in.Emails = []types.Email{{Value: &e, Type: aws.String("work"), Primary: true}}
	}
	out, err := c.identitystore().CreateUser(ctx, in)
	if err != nil {
		return err
	}
	return c.printOne(map[string]string{"UserName": c.args[0], "UserId": aws.ToString(out.UserId)}, []string{"UserName", "UserId"})
}

func primaryEmail(emails []types.Email) string {
	for _, e := range emails {
		if e.Primary {
			return aws.ToString(e.Value)
		}
	}
	if len(emails) > 0 {
		return aws.ToString(emails[0].Value)
	}
	return ""
}

func listUsers(ctx context.Context, c *command) error {
	var rows [][]string
	p := identitystore.NewListUsersPaginator(c.identitystore(), &identitystore.ListUsersInput{IdentityStoreId: &c.storeID})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, u := range page.Users {
			rows = append(rows, []string{aws.ToString(u.UserName), aws.ToString(u.UserId), aws.ToString(u.DisplayName),
				primaryEmail(u.Emails), string(u.UserStatus)})
		}
	}
	return c.print([]string{"UserName", "UserId", "DisplayName", "Email", "Status"}, rows)
}

func showUser(ctx context.Context, c *command) error {
	id, err := c.userID(ctx, c.args[0])
	if err != nil {
		return err
	}
	u, err := c.identitystore().DescribeUser(ctx, &identitystore.DescribeUserInput{IdentityStoreId: &c.storeID, UserId: &id})
	if err != nil {
		return err
	}
	var given, family string
	if u.Name != nil {
		given, family = aws.ToString(u.Name.GivenName), aws.ToString(u.Name.FamilyName)
	}
	return c.printOne(map[string]string{
		"UserName": aws.ToString(u.UserName), "UserId": aws.ToString(u.UserId), "DisplayName": aws.ToString(u.DisplayName),
		"GivenName": given, "FamilyName": family, "Email": primaryEmail(u.Emails), "Status": string(u.UserStatus),
	}, []string{"UserName", "UserId", "DisplayName", "GivenName", "FamilyName", "Email", "Status"})
}

func setUserStatus(ctx context.Context, c *command, enabled bool) error {
	id, err := c.userID(ctx, c.args[0])
	if err != nil {
		return err
	}
	status := "DISABLED"
	if enabled {
		status = "ENABLED"
	}
	if err := c.admin(ctx, "SetUserStatus", map[string]string{"IdentityStoreId": c.storeID, "UserId": id, "UserStatus": status}); err != nil {
		return err
	}
	return c.printOne(map[string]string{"UserName": c.args[0], "Status": status}, []string{"UserName", "Status"})
}

func deleteUser(ctx context.Context, c *command) error {
	id, err := c.userID(ctx, c.args[0])
	if err != nil {
		return err
	}
	_, err = c.identitystore().DeleteUser(ctx, &identitystore.DeleteUserInput{IdentityStoreId: &c.storeID, UserId: &id})
	return err
}

func createGroup(ctx context.Context, c *command) error {
	in := &identitystore.CreateGroupInput{IdentityStoreId: &c.storeID, DisplayName: &c.args[0]}
	if d := c.opt("description"); d != "" {
		in.Description = &d
	}
	out, err := c.identitystore().CreateGroup(ctx, in)
	if err != nil {
		return err
	}
	return c.printOne(map[string]string{"DisplayName": c.args[0], "GroupId": aws.ToString(out.GroupId)}, []string{"DisplayName", "GroupId"})
}

func listGroups(ctx context.Context, c *command) error {
	var rows [][]string
	p := identitystore.NewListGroupsPaginator(c.identitystore(), &identitystore.ListGroupsInput{IdentityStoreId: &c.storeID})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return err
		}
		for _, g := range page.Groups {
			rows = append(rows, []string{aws.ToString(g.DisplayName), aws.ToString(g.GroupId), aws.ToString(g.Description)})
		}
	}
	return c.print([]string{"DisplayName", "GroupId", "Description"}, rows)
}

func addMember(ctx context.Context, c *command) error {
	gid, uid, err := c.groupAndUser(ctx)
	if err != nil {
		return err
	}
	_, err = c.identitystore().CreateGroupMembership(ctx, &identitystore.CreateGroupMembershipInput{IdentityStoreId: &c.storeID,
		GroupId: &gid, MemberId: &types.MemberIdMemberUserId{Value: uid}})
	return err
}

func removeMember(ctx context.Context, c *command) error {
	gid, uid, err := c.groupAndUser(ctx)
	if err != nil {
		return err
	}
	m, err := c.identitystore().GetGroupMembershipId(ctx, &identitystore.GetGroupMembershipIdInput{IdentityStoreId: &c.storeID,
		GroupId: &gid, MemberId: &types.MemberIdMemberUserId{Value: uid}})
	if err != nil {
		return fmt.Errorf("%s is not in %s: %s", c.args[1], c.args[0], describe(err))
	}
	_, err = c.identitystore().DeleteGroupMembership(ctx, &identitystore.DeleteGroupMembershipInput{IdentityStoreId: &c.storeID, MembershipId: m.MembershipId})
	return err
}

func (c *command) groupAndUser(ctx context.Context) (string, string, error) {
	gid, err := c.groupID(ctx, c.args[0])
	if err != nil {
		return "", "", err
	}
	uid, err := c.userID(ctx, c.args[1])
	return gid, uid, err
}
