package access

import (
	"context"
	"net/http"

	"github.com/atrium-sso/atrium/internal/apierr"
	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/principal"
	"github.com/atrium-sso/atrium/internal/store"
)

func (s *Service) instanceOps() map[string]awsproto.Handler {
	return map[string]awsproto.Handler{
		"ListInstances":    awsproto.Op(s.listInstances),
		"DescribeInstance": awsproto.Op(s.describeInstance),
		"UpdateInstance":   awsproto.Op(s.updateInstance),
		"CreateInstance":   awsproto.Op(s.createInstance),
		"DeleteInstance":   awsproto.Op(s.deleteInstance),
	}
}

// Encryption key types of UpdateInstance.
const (
	awsOwnedKey        = "AWS_OWNED_KMS_KEY"
	customerManagedKey = "CUSTOMER_MANAGED_KEY"
)

type instanceOut struct {
	InstanceArn     string
	IdentityStoreId string
	OwnerAccountId  string
	Name            string
	CreatedDate     *awsproto.Timestamp
	Status          string
}

func toInstance(in store.Instance) instanceOut {
	return instanceOut{InstanceArn: in.ARN, IdentityStoreId: in.IdentityStoreID, OwnerAccountId: in.OwnerAccountID, Name: in.Name,
		CreatedDate: awsproto.TimestampOf(in.CreatedAt), Status: in.Status}
}

type listInstancesIn struct {
	MaxResults *int
	NextToken  *string
}

type listInstancesOut struct {
	Instances []instanceOut
	NextToken *string `json:",omitempty"`
}

func (s *Service) listInstances(ctx context.Context, in *listInstancesIn) (*listInstancesOut, error) {
	limit := 10 // AWS lists at most 10 instances
	if in.MaxResults != nil && *in.MaxResults < limit {
		limit = *in.MaxResults
	}
	out := listInstancesOut{Instances: []instanceOut{}}
	return &out, s.store.Read(ctx, func(tx store.Tx) error {
		all, err := tx.ListInstances(ctx)
		if err != nil {
			return err
		}
		list, next, err := awsproto.Page(s.pager, "ListInstances", in.NextToken, limit, errBadToken,
			func(after string, limit int) ([]store.Instance, error) {
				var page []store.Instance
				for _, i := range all {
					if i.ARN > after && len(page) < limit {
						page = append(page, i)
					}
				}
				return page, nil
			}, func(i store.Instance) string { return i.ARN })
		for _, i := range list {
			out.Instances = append(out.Instances, toInstance(i))
		}
		out.NextToken = next
		return err
	})
}

type instanceIn struct{ InstanceArn string }

// Instance finds an instance by ARN (other packages use it to check theirs).
func Instance(ctx context.Context, tx store.Tx, arn string) (*store.Instance, error) {
	all, err := tx.ListInstances(ctx)
	if err != nil {
		return nil, err
	}
	for _, i := range all {
		if i.ARN == arn {
			return &i, nil
		}
	}
	return nil, notFound("Instance %s doesn't exist.", arn)
}

type encryptionDetails struct {
	KeyType          string
	KmsKeyArn        string `json:",omitempty"`
	EncryptionStatus string
}

type describeInstanceOut struct {
	instanceOut
	EncryptionConfigurationDetails encryptionDetails
}

func (s *Service) describeInstance(ctx context.Context, in *instanceIn) (*describeInstanceOut, error) {
	var out describeInstanceOut
	return &out, s.read(ctx, in.InstanceArn, func(_ store.Tx, i *store.Instance) error {
		keyType := i.EncryptionKeyType
		if keyType == "" {
			keyType = awsOwnedKey
		}
		out = describeInstanceOut{instanceOut: toInstance(*i),
			EncryptionConfigurationDetails: encryptionDetails{KeyType: keyType, KmsKeyArn: i.KMSKeyARN, EncryptionStatus: "ENABLED"}}
		return nil
	})
}

type updateInstanceIn struct {
	InstanceArn             string
	Name                    *string
	EncryptionConfiguration *struct {
		KeyType   string
		KmsKeyArn string
	}
}

// updateInstance renames the instance and records its encryption choice.
// Atrium has no KMS: a customer managed key is kept and reported as AWS
// reports it, so infrastructure code that sets one round-trips, but Atrium
// encrypts nothing with it; data at rest is as safe as the database's own
// storage encryption.
func (s *Service) updateInstance(ctx context.Context, in *updateInstanceIn) (*struct{}, error) {
	if e := in.EncryptionConfiguration; e != nil {
		switch {
		case e.KeyType == customerManagedKey && e.KmsKeyArn == "":
			return nil, invalid("KmsKeyArn is required when KeyType is CUSTOMER_MANAGED_KEY.")
		case e.KeyType == awsOwnedKey && e.KmsKeyArn != "":
			return nil, invalid("KmsKeyArn can't be given when KeyType is AWS_OWNED_KMS_KEY.")
		}
	}
	return nil, s.write(ctx, in.InstanceArn, func(tx store.Tx) error {
		_, err := tx.UpdateInstance(ctx, in.InstanceArn, func(i *store.Instance) error {
			if in.Name != nil {
				i.Name = *in.Name
			}
			if e := in.EncryptionConfiguration; e != nil {
				i.EncryptionKeyType, i.KMSKeyARN = e.KeyType, e.KmsKeyArn
			}
			return nil
		})
		return err
	})
}

// errManagementAccount is AWS's answer when the management account calls
// CreateInstance: only the console enables an organization instance.
var errManagementAccount = invalid("Organization management account is not allowed to perform the operation.")

type createInstanceIn struct {
	Name        string
	ClientToken string
	Tags        []tag
}

type createInstanceOut struct{ InstanceArn string }

// createInstance answers as AWS does where an organization instance exists.
// CreateInstance only makes account instances, which AWS refuses to the
// management account; Atrium serves the organization instance alone, so a
// member account is refused as an organization that does not permit
// account instances refuses it.
func (s *Service) createInstance(ctx context.Context, _ *createInstanceIn) (*createInstanceOut, error) {
	return nil, s.store.Read(ctx, func(tx store.Tx) error {
		org, err := tx.GetOrganization(ctx)
		if err != nil {
			return err
		}
		p := principal.From(ctx)
		if p != nil && p.AccountID == org.ManagementAccountID {
			return errManagementAccount
		}
		return accessDenied(p, "CreateInstance", "this organization does not permit account instances of IAM Identity Center")
	})
}

// deleteInstance refuses to delete the organization instance. AWS lets only
// the owner call DeleteInstance and documents that neither a delegated
// administrator nor a member account can delete the organization instance;
// its owner, the management account, enables and deletes it in the console,
// not through the API (inferred from CreateInstance, which answers the
// management account so). Here the instance is the deployment itself.
func (s *Service) deleteInstance(ctx context.Context, in *instanceIn) (*struct{}, error) {
	return nil, s.read(ctx, in.InstanceArn, func(_ store.Tx, i *store.Instance) error {
		p := principal.From(ctx)
		if p == nil || p.AccountID != i.OwnerAccountID {
			return accessDenied(p, "DeleteInstance", "only the account that owns the instance can delete it")
		}
		return errManagementAccount
	})
}

func accessDenied(p *principal.Principal, op, why string) *apierr.Error {
	arn := "anonymous"
	if p != nil {
		arn = p.ARN
	}
	return apierr.New(http.StatusBadRequest, "AccessDeniedException", "User: %s is not authorized to perform: sso:%s: %s.", arn, op, why)
}
