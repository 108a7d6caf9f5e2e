package e2e

import (
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
)

// Clients discover the instance and its identity store as on AWS.
func TestListAndDescribeInstance(t *testing.T) {
	backends(t, func(t *testing.T, o nodeOptions) {
		n := startNode(t, o)
		c := ssoadmin.NewFromConfig(n.admin())
		list, err := c.ListInstances(ctxT(t), &ssoadmin.ListInstancesInput{})
		if err != nil || len(list.Instances) != 1 {
			t.Fatalf("ListInstances = %+v, %v", list, err)
		}
		in := list.Instances[0]
		org, _ := n.organizations().DescribeOrganization(ctxT(t), &organizations.DescribeOrganizationInput{})
		if !regexp.MustCompile(`^arn:aws:sso:::instance/ssoins-[0-9a-f]{16}$`).MatchString(*in.InstanceArn) ||
			!regexp.MustCompile(`^d-[0-9a-f]{10}$`).MatchString(*in.IdentityStoreId) ||
			*in.OwnerAccountId != *org.Organization.MasterAccountId || in.Status != "ACTIVE" || in.CreatedDate == nil {
			t.Fatalf("instance = %+v", in)
		}
		got, err := c.DescribeInstance(ctxT(t), &ssoadmin.DescribeInstanceInput{InstanceArn: in.InstanceArn})
		if err != nil || *got.IdentityStoreId != *in.IdentityStoreId || *got.InstanceArn != *in.InstanceArn {
			t.Fatalf("DescribeInstance = %+v, %v", got, err)
		}
		_, err = c.DescribeInstance(ctxT(t), &ssoadmin.DescribeInstanceInput{InstanceArn: aws.String("arn:aws:sso:::instance/ssoins-0000000000000000")})
		if apiErrorCode(err) != "ResourceNotFoundException" {
			t.Fatalf("unknown instance: %v", err)
		}
		_, err = c.DescribeInstance(ctxT(t), &ssoadmin.DescribeInstanceInput{InstanceArn: aws.String("not-an-arn")})
		if apiErrorCode(err) != "ValidationException" {
			t.Fatalf("malformed instance ARN: %v", err)
		}
	})
}
