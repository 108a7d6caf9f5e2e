package iam

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/policy"
	"github.com/atrium-sso/atrium/internal/store"
)

// IAM's default quotas for customer managed policies.
const (
	maxPolicySize        = 6144 // characters, whitespace not counted
	maxPoliciesInAccount = 1500
)

// managedPolicy is a managed policy of either kind, AWS's (from the
// catalogue) or the account's own (from the store), as the API shows it.
type managedPolicy struct {
	ARN, Name, Path, ID, Description, Document string
	VersionID                                  string // the default (only) version
	CreatedAt, UpdatedAt                       time.Time
	Local                                      bool
}

func fromStore(p *store.IAMPolicy) *managedPolicy {
	return &managedPolicy{ARN: p.ARN, Name: p.Name, Path: p.Path, ID: p.PolicyID, Description: p.Description, Document: p.Document,
		VersionID: "v1", CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Local: true}
}

type tag struct {
	Key   string
	Value string
}

type policyOut struct {
	PolicyName                    string
	PolicyId                      string
	Arn                           string
	Path                          string
	DefaultVersionId              string
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	Description                   string `xml:",omitempty"`
	CreateDate                    awsproto.Timestamp
	UpdateDate                    awsproto.Timestamp
	Tags                          members[tag] `xml:",omitempty"`
}

func (p *managedPolicy) out(u usage) policyOut {
	return policyOut{PolicyName: p.Name, PolicyId: p.ID, Arn: p.ARN, Path: p.Path, DefaultVersionId: p.VersionID,
		AttachmentCount: u.attached[p.ARN], PermissionsBoundaryUsageCount: u.boundary[p.ARN], IsAttachable: true,
		CreateDate: awsproto.Timestamp(p.CreatedAt), UpdateDate: awsproto.Timestamp(p.UpdatedAt)}
}

// splitPolicyARN takes arn:aws:iam::<account>:policy<path><name> apart.
func splitPolicyARN(arn string) (acct, path, name string, ok bool) {
	rest, ok := strings.CutPrefix(arn, "arn:aws:iam::")
	if !ok {
		return "", "", "", false
	}
	acct, resource, ok := strings.Cut(rest, ":")
	pathName, isPolicy := strings.CutPrefix(resource, "policy/")
	if !ok || !isPolicy || acct == "" {
		return "", "", "", false
	}
	i := strings.LastIndexByte(pathName, '/')
	path, name = "/"+pathName[:i+1], pathName[i+1:]
	return acct, path, name, name != ""
}

// lookupPolicy finds a managed policy the caller may read: AWS's, or one of its account's.
func lookupPolicy(ctx context.Context, tx store.Tx, op, arn string) (*managedPolicy, error) {
	acct, _, _, ok := splitPolicyARN(arn)
	switch {
	case !ok:
		return nil, invalidInput("ARN %s is not valid.", arn)
	case acct == "aws":
		if p := awsManaged(arn); p != nil {
			return p, nil
		}
		return nil, noSuchEntity("Policy %s was not found.", arn)
	case acct != account(ctx):
		return nil, accessDenied(ctx, op, "policy "+arn)
	}
	p, err := tx.GetPolicy(ctx, arn)
	if err != nil {
		return nil, notFoundAs(err, noSuchEntity("Policy %s was not found.", arn))
	}
	return fromStore(p), nil
}

// usage counts, for an account, the roles each managed policy is attached
// to and the roles it bounds.
type usage struct{ attached, boundary map[string]int }

// accountUsage reads it from every role of the account: one pass serves a
// whole listing of policies.
func accountUsage(ctx context.Context, tx store.Tx, acct string) (usage, error) {
	u := usage{attached: map[string]int{}, boundary: map[string]int{}}
	const batch = 1000
	for after := ""; ; {
		roles, err := tx.ListRoles(ctx, acct, "", after, batch)
		if err != nil {
			return u, err
		}
		for _, r := range roles {
			for _, arn := range r.ManagedPolicyARNs {
				u.attached[arn]++
			}
			if r.BoundaryARN != "" {
				u.boundary[r.BoundaryARN]++
			}
		}
		if len(roles) < batch {
			return u, nil
		}
		after = store.NameKey(roles[len(roles)-1].Name)
	}
}

// policyUsage counts one policy's attachments (indexed) and the roles it bounds.
func policyUsage(ctx context.Context, tx store.Tx, acct, arn string) (usage, error) {
	n, err := tx.CountPolicyAttachments(ctx, acct, arn)
	if err != nil {
		return usage{}, err
	}
	all, err := accountUsage(ctx, tx, acct)
	if err != nil {
		return usage{}, err
	}
	return usage{attached: map[string]int{arn: n}, boundary: map[string]int{arn: all.boundary[arn]}}, nil
}

// --- CreatePolicy

type createPolicyIn struct {
	PolicyName     string
	Path           *string
	PolicyDocument string
	Description    *string
	Tags           []tag
}

type createPolicyOut struct{ Policy policyOut }

// policySize is a document's length as IAM's quota counts it: without whitespace.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

func (s *Service) createPolicy(ctx context.Context, in *createPolicyIn) (*createPolicyOut, error) {
	path := "/"
	if in.Path != nil {
		path = *in.Path
	}
	if policySize(in.PolicyDocument) > maxPolicySize {
		return nil, limitExceeded("PolicySize", maxPolicySize)
	}
	doc, err := policy.Parse(in.PolicyDocument, policy.Identity)
	if err == nil {
		err = doc.CheckManagedVersion()
	}
	if pe := (*policy.Error)(nil); errors.As(err, &pe) {
		return nil, malformedPolicy(pe.Message)
	} else if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, t := range in.Tags {
		if seen[strings.ToLower(t.Key)] {
			return nil, invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(t.Key)] = true
	}
	acct := account(ctx)
	now := time.Now().UTC()
	p := store.IAMPolicy{AccountID: acct, ARN: "arn:aws:iam::" + acct + ":policy" + path + in.PolicyName, Name: in.PolicyName, Path: path,
		PolicyID: ids.PolicyID(), Description: deref(in.Description), Document: in.PolicyDocument, CreatedAt: now, UpdatedAt: now}
	err = s.store.Write(ctx, func(tx store.Tx) error {
		existing, err := tx.ListPolicies(ctx, acct, "", "", maxPoliciesInAccount)
		if err != nil {
			return err
		}
		if len(existing) >= maxPoliciesInAccount {
			return limitExceeded("PoliciesPerAccount", maxPoliciesInAccount)
		}
		if err := tx.InsertPolicy(ctx, p); errors.Is(err, store.ErrConflict) {
			return entityAlreadyExists("A policy called %s already exists. Duplicate names are not allowed.", in.PolicyName)
		} else if err != nil {
			return err
		}
		stored := make([]store.Tag, len(in.Tags))
		for i, t := range in.Tags {
			stored[i] = store.Tag{Key: t.Key, Value: t.Value}
		}
		return tx.PutTags(ctx, p.ARN, stored)
	})
	if err != nil {
		return nil, err
	}
	out := fromStore(&p).out(usage{})
	out.Tags = in.Tags
	return &createPolicyOut{Policy: out}, nil
}

// --- GetPolicy, GetPolicyVersion

type policyARNIn struct{ PolicyArn string }

type getPolicyOut struct{ Policy policyOut }

func (s *Service) getPolicy(ctx context.Context, in *policyARNIn) (*getPolicyOut, error) {
	var out getPolicyOut
	return &out, s.store.Read(ctx, func(tx store.Tx) error {
		p, err := lookupPolicy(ctx, tx, "GetPolicy", in.PolicyArn)
		if err != nil {
			return err
		}
		u, err := policyUsage(ctx, tx, account(ctx), p.ARN)
		if err != nil {
			return err
		}
		out.Policy = p.out(u)
		out.Policy.Description = p.Description
		if p.Local {
			tags, err := tx.ListTags(ctx, p.ARN)
			if err != nil {
				return err
			}
			for _, t := range tags {
				out.Policy.Tags = append(out.Policy.Tags, tag{Key: t.Key, Value: t.Value})
			}
		}
		return nil
	})
}

type getPolicyVersionIn struct {
	PolicyArn string
	VersionId string
}

type policyVersionOut struct {
	Document         string
	VersionId        string
	IsDefaultVersion bool
	CreateDate       awsproto.Timestamp
}

type getPolicyVersionOut struct{ PolicyVersion policyVersionOut }

func (s *Service) getPolicyVersion(ctx context.Context, in *getPolicyVersionIn) (*getPolicyVersionOut, error) {
	var out getPolicyVersionOut
	return &out, s.store.Read(ctx, func(tx store.Tx) error {
		p, err := lookupPolicy(ctx, tx, "GetPolicyVersion", in.PolicyArn)
		if err != nil {
			return err
		}
		// Only the default version is kept: CreatePolicyVersion is not served.
		if in.VersionId != p.VersionID {
			return noSuchEntity("Policy %s version %s does not exist or is not attachable.", p.ARN, in.VersionId)
		}
		out.PolicyVersion = policyVersionOut{Document: urlEncode(p.Document), VersionId: p.VersionID, IsDefaultVersion: true,
			CreateDate: awsproto.Timestamp(p.UpdatedAt)}
		return nil
	})
}

// --- ListPolicies

type listPoliciesIn struct {
	Scope             *string
	OnlyAttached      *bool
	PathPrefix        *string
	PolicyUsageFilter *string
	Marker            *string
	MaxItems          *int
}

type listPoliciesOut struct {
	Policies members[policyOut]
	page
}

// listedPolicy is a policy in a listing with its cursor: AWS's policies
// come first ("A" + catalogue key), then the account's ("L" + name key).
type listedPolicy struct {
	cursor string
	policy *managedPolicy
}

func (s *Service) listPolicies(ctx context.Context, in *listPoliciesIn) (*listPoliciesOut, error) {
	scope, prefix, filter := "All", deref(in.PathPrefix), deref(in.PolicyUsageFilter)
	if in.Scope != nil {
		scope = *in.Scope
	}
	onlyAttached := in.OnlyAttached != nil && *in.OnlyAttached
	acct := account(ctx)
	out := listPoliciesOut{Policies: members[policyOut]{}}
	return &out, s.store.Read(ctx, func(tx store.Tx) error {
		u, err := accountUsage(ctx, tx, acct)
		if err != nil {
			return err
		}
		keep := func(p *managedPolicy) bool {
			if !strings.HasPrefix(p.Path, prefix) {
				return false
			}
			attached, bounds := u.attached[p.ARN] > 0, u.boundary[p.ARN] > 0
			switch filter {
			case "PermissionsBoundary":
				return bounds
			case "PermissionsPolicy":
				return !onlyAttached || attached
			}
			return !onlyAttached || attached || bounds
		}
		list := func(after string, limit int) ([]listedPolicy, error) {
			var items []listedPolicy
			local, isLocal := strings.CutPrefix(after, "L")
			from, isAWS := strings.CutPrefix(after, "A")
			if after != "" && !isLocal && !isAWS {
				return nil, errBadMarker
			}
			if !isLocal {
				local = ""
			}
			if scope != "Local" && !isLocal {
				for _, p := range catalogue() {
					if k := catalogueKey(p); (after == "" || k > from) && keep(p) {
						if items = append(items, listedPolicy{"A" + k, p}); len(items) == limit {
							return items, nil
						}
					}
				}
			}
			if scope == "AWS" {
				return items, nil
			}
			for {
				batch, err := tx.ListPolicies(ctx, acct, prefix, local, limit)
				if err != nil {
					return nil, err
				}
				for i := range batch {
					local = store.NameKey(batch[i].Name)
					if p := fromStore(&batch[i]); keep(p) {
						if items = append(items, listedPolicy{"L" + local, p}); len(items) == limit {
							return items, nil
						}
					}
				}
				if len(batch) < limit {
					return items, nil
				}
			}
		}
		scopeKey := strings.Join([]string{"ListPolicies", acct, scope, prefix, filter, boolString(onlyAttached)}, "\x00")
		items, next, err := awsproto.Page(s.pager, scopeKey, in.Marker, pageSize(in.MaxItems), errBadMarker, list,
			func(p listedPolicy) string { return p.cursor })
		if err != nil {
			return err
		}
		for _, it := range items {
			out.Policies = append(out.Policies, it.policy.out(u))
		}
		out.page = pageOf(next)
		return nil
	})
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// --- DeletePolicy

func (s *Service) deletePolicy(ctx context.Context, in *policyARNIn) (*struct{}, error) {
	acct, _, _, ok := splitPolicyARN(in.PolicyArn)
	switch {
	case !ok:
		return nil, invalidInput("ARN %s is not valid.", in.PolicyArn)
	case acct != account(ctx):
		return nil, accessDenied(ctx, "DeletePolicy", "policy "+in.PolicyArn)
	}
	return nil, s.store.Write(ctx, func(tx store.Tx) error {
		// Deleted first, counted after: a role attaching the policy
		// concurrently holds it locked, so its attachment is seen here.
		if err := tx.DeletePolicy(ctx, in.PolicyArn); err != nil {
			return notFoundAs(err, noSuchEntity("Policy %s was not found.", in.PolicyArn))
		}
		u, err := policyUsage(ctx, tx, acct, in.PolicyArn)
		if err != nil {
			return err
		}
		if u.attached[in.PolicyArn] > 0 || u.boundary[in.PolicyArn] > 0 {
			return deleteConflict("Cannot delete a policy attached to entities.")
		}
		tags, err := tx.ListTags(ctx, in.PolicyArn)
		if err != nil || len(tags) == 0 {
			return err
		}
		keys := make([]string, len(tags))
		for i, t := range tags {
			keys[i] = t.Key
		}
		return tx.DeleteTags(ctx, in.PolicyArn, keys)
	})
}
