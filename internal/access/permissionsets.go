package access

import (
	"context"
	"errors"
	"maps"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/awsproto"
	"github.com/atrium-sso/atrium/internal/ids"
	"github.com/atrium-sso/atrium/internal/store"
)

func (s *Service) permissionSetOps() map[string]awsproto.Handler {
	ops := map[string]awsproto.Handler{
		"CreatePermissionSet":   awsproto.Op(s.createPermissionSet),
		"DescribePermissionSet": awsproto.Op(s.describePermissionSet),
		"UpdatePermissionSet":   awsproto.Op(s.updatePermissionSet),
		"DeletePermissionSet":   awsproto.Op(s.deletePermissionSet),
		"ListPermissionSets":    awsproto.Op(s.listPermissionSets),
	}
	maps.Copy(ops, s.policyOps()) // policies.go
	return ops
}

// maxPermissionSets is AWS's quota of permission sets per instance.
const maxPermissionSets = 2000

// Session durations: one hour unless set, from one to twelve hours.
const (
	defaultSessionDuration = "PT1H"
	minSession             = time.Hour
	maxSession             = 12 * time.Hour
)

// permissionSetARN makes a new permission set's ARN from its instance's:
// arn:aws:sso:::permissionSet/ssoins-…/ps-<16 hex>.
func permissionSetARN(instanceARN string) string {
	return strings.Replace(instanceARN, ":instance/", ":permissionSet/", 1) + "/ps-" + ids.Hex(8)
}

// instanceOfPermissionSet is the ARN of the instance a permission set ARN names.
func instanceOfPermissionSet(arn string) (string, bool) {
	prefix, rest, ok := strings.Cut(arn, ":permissionSet/")
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, "/")
	return prefix + ":instance/" + id, ok
}

// permissionSetID is the ps-… part of a permission set ARN.
func permissionSetID(arn string) string { return arn[strings.LastIndexByte(arn, '/')+1:] }

// isoDuration is the model's Duration pattern without its lookahead, which
// RE2 lacks; durationStart checks what the lookahead did.
var isoDuration = regexp.MustCompile(`^-?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?(?:T(?:(\d+)H)?(?:(\d+)M)?(\d+(?:\.\d+)?S)?)?$`)

func durationStart(s string) bool {
	rest := strings.TrimPrefix(strings.TrimPrefix(s, "-"), "P")
	digit := func(i int) bool { return i < len(rest) && rest[i] >= '0' && rest[i] <= '9' }
	return digit(0) || (strings.HasPrefix(rest, "T") && digit(1))
}

// ParseSessionDuration reads a permission set's ISO-8601 session duration
// (PT1H, PT90M, PT4H30M, ...) and refuses what is not a duration or lies
// outside one to twelve hours, as AWS does.
func ParseSessionDuration(s string) (time.Duration, error) {
	m := isoDuration.FindStringSubmatch(s)
	if m == nil || !durationStart(s) {
		return 0, invalid("SessionDuration %q is not an ISO-8601 duration such as PT4H.", s)
	}
	// Calendar parts count at their shortest: any of them is over 12 hours.
	day := 24 * time.Hour
	units := []struct {
		value string
		unit  time.Duration
	}{{m[1], 365 * day}, {m[2], 28 * day}, {m[3], day}, {m[5], time.Hour}, {m[6], time.Minute}}
	if m[4] == "W" {
		units[2].unit = 7 * day
	}
	var secs float64
	for _, u := range units {
		if u.value != "" {
			n, err := strconv.ParseFloat(u.value, 64)
			if err != nil {
				return 0, errSessionRange
			}
			secs += n * u.unit.Seconds()
		}
	}
	if m[7] != "" {
		n, err := strconv.ParseFloat(strings.TrimSuffix(m[7], "S"), 64)
		if err != nil {
			return 0, errSessionRange
		}
		secs += n
	}
	if strings.HasPrefix(s, "-") {
		secs = -secs
	}
	if secs < minSession.Seconds() || secs > maxSession.Seconds() {
		return 0, errSessionRange
	}
	return time.Duration(secs * float64(time.Second)), nil
}

var errSessionRange = invalid("SessionDuration must be from PT1H to PT12H.")

type permissionSetOut struct {
	Name             string
	PermissionSetArn string
	Description      string              `json:",omitempty"`
	CreatedDate      *awsproto.Timestamp `json:",omitempty"`
	SessionDuration  string              `json:",omitempty"`
	RelayState       string              `json:",omitempty"`
}

type permissionSetWrap struct{ PermissionSet permissionSetOut }

func toPermissionSet(ps *store.PermissionSet) *permissionSetWrap {
	return &permissionSetWrap{permissionSetOut{Name: ps.Name, PermissionSetArn: ps.ARN, Description: ps.Description,
		CreatedDate: awsproto.TimestampOf(ps.CreatedAt), SessionDuration: ps.SessionDuration, RelayState: ps.RelayState}}
}

type createPermissionSetIn struct {
	InstanceArn     string
	Name            string
	Description     string
	SessionDuration *string
	RelayState      string
	Tags            []tag
}

func (s *Service) createPermissionSet(ctx context.Context, in *createPermissionSetIn) (*permissionSetWrap, error) {
	duration := defaultSessionDuration
	if in.SessionDuration != nil {
		if _, err := ParseSessionDuration(*in.SessionDuration); err != nil {
			return nil, err
		}
		duration = *in.SessionDuration
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	ps := store.PermissionSet{InstanceARN: in.InstanceArn, ARN: permissionSetARN(in.InstanceArn), Name: in.Name,
		Description: in.Description, SessionDuration: duration, RelayState: in.RelayState, Version: 1, CreatedAt: now, UpdatedAt: now}
	err := s.write(ctx, in.InstanceArn, func(tx store.Tx) error {
		existing, err := tx.ListPermissionSets(ctx, in.InstanceArn, "", maxPermissionSets)
		if err != nil {
			return err
		}
		if len(existing) >= maxPermissionSets {
			return quota("The instance already has %d permission sets, the most it can have.", maxPermissionSets)
		}
		if err := tx.InsertPermissionSet(ctx, ps); errors.Is(err, store.ErrConflict) {
			return conflict("PermissionSet with name %s already exists.", in.Name)
		} else if err != nil {
			return err
		}
		return putTags(ctx, tx, ps.ARN, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return toPermissionSet(&ps), nil
}

type permissionSetIn struct {
	InstanceArn      string
	PermissionSetArn string
}

func (s *Service) describePermissionSet(ctx context.Context, in *permissionSetIn) (*permissionSetWrap, error) {
	var out permissionSetWrap
	return &out, s.read(ctx, in.InstanceArn, func(tx store.Tx, _ *store.Instance) error {
		ps, err := permissionSet(ctx, tx, in.InstanceArn, in.PermissionSetArn)
		if err == nil {
			out = *toPermissionSet(ps)
		}
		return err
	})
}

// changePermissionSet runs change on a permission set of the instance. When
// change reports that it changed what a provisioned role is made of, the
// permission set's version grows, so the accounts it is provisioned to show
// as LATEST_PERMISSION_SET_NOT_PROVISIONED until ProvisionPermissionSet.
func (s *Service) changePermissionSet(ctx context.Context, instanceARN, arn string, change func(*store.PermissionSet) (bool, error)) error {
	return s.write(ctx, instanceARN, func(tx store.Tx) error {
		if _, err := permissionSet(ctx, tx, instanceARN, arn); err != nil {
			return err
		}
		_, err := tx.UpdatePermissionSet(ctx, instanceARN, arn, func(ps *store.PermissionSet) error {
			changed, err := change(ps)
			if changed {
				ps.Version++
				ps.UpdatedAt = time.Now().UTC()
			}
			return err
		})
		return err
	})
}

type updatePermissionSetIn struct {
	InstanceArn      string
	PermissionSetArn string
	Description      *string
	SessionDuration  *string
	RelayState       *string
}

// updatePermissionSet changes only what the request names. Every field
// counts as a change to follow: AWS's console re-provisions accounts after
// editing the session duration or relay state, and the role carries the rest.
func (s *Service) updatePermissionSet(ctx context.Context, in *updatePermissionSetIn) (*struct{}, error) {
	if in.SessionDuration != nil {
		if _, err := ParseSessionDuration(*in.SessionDuration); err != nil {
			return nil, err
		}
	}
	return nil, s.changePermissionSet(ctx, in.InstanceArn, in.PermissionSetArn, func(ps *store.PermissionSet) (bool, error) {
		changed := false
		set := func(field, value *string) {
			if value != nil && *value != *field {
				*field, changed = *value, true
			}
		}
		set(&ps.Description, in.Description)
		set(&ps.SessionDuration, in.SessionDuration)
		set(&ps.RelayState, in.RelayState)
		return changed, nil
	})
}

func (s *Service) deletePermissionSet(ctx context.Context, in *permissionSetIn) (*struct{}, error) {
	return nil, s.write(ctx, in.InstanceArn, func(tx store.Tx) error {
		if _, err := permissionSet(ctx, tx, in.InstanceArn, in.PermissionSetArn); err != nil {
			return err
		}
		err := tx.DeletePermissionSet(ctx, in.InstanceArn, in.PermissionSetArn)
		if errors.Is(err, store.ErrConflict) {
			// AWS's words for a permission set still assigned or provisioned.
			return conflict("Could not delete because PermissionSet has ApplicationProfile associated with it.")
		}
		return err
	})
}

type listPermissionSetsIn struct {
	InstanceArn string
	MaxResults  *int
	NextToken   *string
}

type listPermissionSetsOut struct {
	PermissionSets []string
	NextToken      *string `json:",omitempty"`
}

func (s *Service) listPermissionSets(ctx context.Context, in *listPermissionSetsIn) (*listPermissionSetsOut, error) {
	out := listPermissionSetsOut{PermissionSets: []string{}}
	return &out, s.read(ctx, in.InstanceArn, func(tx store.Tx, _ *store.Instance) error {
		list, next, err := awsproto.Page(s.pager, "ListPermissionSets/"+in.InstanceArn, in.NextToken, pageLimit(in.MaxResults, 100), errBadToken,
			func(after string, limit int) ([]store.PermissionSet, error) {
				return tx.ListPermissionSets(ctx, in.InstanceArn, after, limit)
			}, func(ps store.PermissionSet) string { return ps.ARN })
		for _, ps := range list {
			out.PermissionSets = append(out.PermissionSets, ps.ARN)
		}
		out.NextToken = next
		return err
	})
}
