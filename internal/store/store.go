// Package store is Atrium's storage contract. Every node shares nothing but
// the database behind it, so everything that must survive a restart or be seen
// by another node lives here. Two backends implement it: sqlite (the embedded
// default) and postgres (several nodes); storetest is the conformance suite
// both must pass.
package store

import (
	"context"
	"errors"
	"time"
)

var (
	// ErrNotFound: the row asked for does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a uniqueness rule would be broken.
	ErrConflict = errors.New("store: conflict")
	// ErrLeaseLost: a job's lease passed to another worker before it finished.
	ErrLeaseLost = errors.New("store: job lease lost")
)

// Store opens transactions on the database.
type Store interface {
	// Write runs fn in a read-write transaction, committed only if fn returns
	// nil. Writers are serialised per row (postgres) or per database (sqlite).
	Write(ctx context.Context, fn func(Tx) error) error
	// Read runs fn against the read pool. It is not a snapshot: use it for
	// reads that stand alone, and Write for read-then-write.
	Read(ctx context.Context, fn func(Tx) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Backend names the implementation ("sqlite" or "postgres").
	Backend() string
	// PoolStats reports the connection pools for metrics.
	PoolStats() []PoolStat
	Close() error
}

// PoolStat is one connection pool's gauges.
type PoolStat struct {
	Name               string // "write", "read"
	Open, InUse, Idle  int
	WaitCount          int64
	WaitDuration       time.Duration
	MaxOpenConnections int
}

// Tx is everything that can be done inside one transaction.
type Tx interface {
	DirectoryTx  // users, groups, memberships: directory.go
	AccessTx     // permission sets, assignments, provisioning: access.go
	IAMTx        // roles, customer managed policies, session credentials: iam.go
	SigninTx     // passwords, MFA devices, sign-in throttles, settings: signin.go
	PortalTx     // sign-in sessions, OAuth clients, codes and tokens: portal.go
	FederationTx // identity sources and single-use marks: federation.go
	ScimTx       // SCIM bearer tokens: scim.go

	// Meta is a small key/value table for one-off facts (bootstrap marker, keys).
	GetMeta(ctx context.Context, key string) (string, error)
	// PutMetaIfAbsent sets key only if it is unset; reports whether it did.
	PutMetaIfAbsent(ctx context.Context, key, value string) (bool, error)

	InsertOrganization(ctx context.Context, o Organization) error
	GetOrganization(ctx context.Context) (*Organization, error)

	InsertInstance(ctx context.Context, in Instance) error
	ListInstances(ctx context.Context) ([]Instance, error)

	InsertAccount(ctx context.Context, a Account) error
	GetAccount(ctx context.Context, id string) (*Account, error)
	GetAccountByEmail(ctx context.Context, email string) (*Account, error)
	// ListAccounts lists accounts with id > after, by id; parent "" means all.
	ListAccounts(ctx context.Context, parent, after string, limit int) ([]Account, error)
	UpdateAccount(ctx context.Context, id string, fn func(*Account) error) (*Account, error)

	InsertOrganizationalUnit(ctx context.Context, ou OrganizationalUnit) error
	GetOrganizationalUnit(ctx context.Context, id string) (*OrganizationalUnit, error)
	ListOrganizationalUnits(ctx context.Context, parent, after string, limit int) ([]OrganizationalUnit, error)
	UpdateOrganizationalUnit(ctx context.Context, id string, fn func(*OrganizationalUnit) error) (*OrganizationalUnit, error)
	DeleteOrganizationalUnit(ctx context.Context, id string) error

	InsertCreateAccountRequest(ctx context.Context, r CreateAccountRequest) error
	GetCreateAccountRequest(ctx context.Context, id string) (*CreateAccountRequest, error)
	// ListCreateAccountRequests lists by id > after; states empty means all.
	ListCreateAccountRequests(ctx context.Context, states []string, after string, limit int) ([]CreateAccountRequest, error)
	UpdateCreateAccountRequest(ctx context.Context, id string, fn func(*CreateAccountRequest) error) (*CreateAccountRequest, error)

	// Tags belong to any resource id (account, OU, root, later permission sets).
	PutTags(ctx context.Context, resource string, tags []Tag) error
	DeleteTags(ctx context.Context, resource string, keys []string) error
	ListTags(ctx context.Context, resource string) ([]Tag, error)

	// PutAccessKey inserts or replaces a long-term access key.
	PutAccessKey(ctx context.Context, k AccessKey) error
	GetAccessKey(ctx context.Context, id string) (*AccessKey, error)

	AppendAudit(ctx context.Context, e AuditEvent) error
	// ListAudit lists events newest first, strictly before the cursor (zero = from the newest).
	ListAudit(ctx context.Context, before AuditCursor, limit int) ([]AuditEvent, error)

	EnqueueJob(ctx context.Context, j Job) error
	// ClaimJob leases the oldest due job of one of kinds to worker until leaseUntil.
	// It returns ErrNotFound when none is due.
	ClaimJob(ctx context.Context, kinds []string, worker string, now, leaseUntil time.Time) (*Job, error)
	// TakeJob removes the oldest due job of one of kinds from the queue
	// and returns it, for this transaction to run: no lease, no FinishJob.
	// Other transactions skip it meanwhile (its row is locked on
	// PostgreSQL; SQLite has one writer), and if this one does not commit
	// the job stays as it was. A job whose lease ran out is taken too, and
	// its Holder then loses it. ErrNotFound when none is due.
	TakeJob(ctx context.Context, kinds []string, now time.Time) (*Job, error)
	// FinishJob deletes a job that worker still holds; ErrLeaseLost otherwise.
	FinishJob(ctx context.Context, id, worker string) error
	// RetryJob releases a job held by worker to run again at runAfter, recording why.
	RetryJob(ctx context.Context, id, worker string, runAfter time.Time, reason string) error
}

// Organization is the one AWS organization a deployment holds.
type Organization struct {
	ID                     string // o-…
	ARN                    string
	FeatureSet             string // ALL
	ManagementAccountID    string
	ManagementAccountEmail string
	RootID                 string // r-…
	CreatedAt              time.Time
}

// Instance is an Identity Center instance.
type Instance struct {
	ARN             string // arn:aws:sso:::instance/ssoins-…
	IdentityStoreID string // d-…
	OwnerAccountID  string
	Name            string
	Status          string // ACTIVE
	// Encryption at rest as UpdateInstance sets it: AWS_OWNED_KMS_KEY
	// (default, "") or CUSTOMER_MANAGED_KEY with KMSKeyARN.
	EncryptionKeyType string
	KMSKeyARN         string
	CreatedAt         time.Time
}

// Account is an AWS account of the organization.
type Account struct {
	ID           string // 12 digits
	Name         string
	Email        string
	ParentID     string // root or OU id
	Status       string // ACTIVE | SUSPENDED | PENDING_CLOSURE
	State        string // ACTIVE | SUSPENDED | PENDING_CLOSURE | CLOSED
	JoinedMethod string // CREATED | INVITED
	JoinedAt     time.Time
}

// OrganizationalUnit groups accounts under the root or another OU.
type OrganizationalUnit struct {
	ID        string // ou-…
	Name      string
	ParentID  string
	CreatedAt time.Time
}

// CreateAccountRequest tracks an asynchronous CreateAccount.
type CreateAccountRequest struct {
	ID            string // car-…
	AccountName   string
	Email         string
	State         string // IN_PROGRESS | SUCCEEDED | FAILED
	FailureReason string
	AccountID     string
	RequestedAt   time.Time
	CompletedAt   time.Time // zero while in progress
}

// Tag is one key/value tag on a resource.
type Tag struct{ Key, Value string }

// AccessKey is a long-term credential that signs API calls.
type AccessKey struct {
	ID           string // AKIA…
	Secret       string
	AccountID    string
	PrincipalARN string // arn:aws:iam::<acct>:root
	UserID       string // what GetCallerIdentity answers as UserId
	Status       string // Active | Inactive
	CreatedAt    time.Time
}

// AuditEvent is a CloudTrail-like record of one API call.
type AuditEvent struct {
	ID            string
	Time          time.Time
	Source        string // e.g. organizations.amazonaws.com
	EventName     string
	ReadOnly      bool
	PrincipalARN  string
	AccountID     string
	AccessKeyID   string
	SourceIP      string
	UserAgent     string
	RequestID     string
	RequestParams string // JSON, secrets redacted
	ErrorCode     string
	ErrorMessage  string
}

// AuditCursor positions ListAudit.
type AuditCursor struct {
	Time time.Time
	ID   string
}

// Job is a unit of asynchronous work in the durable queue.
type Job struct {
	ID        string
	Kind      string
	Payload   []byte
	RunAfter  time.Time
	Attempts  int
	LastError string
	CreatedAt time.Time
	Holder    string // the worker whose lease it is or was under; "" if none
}
