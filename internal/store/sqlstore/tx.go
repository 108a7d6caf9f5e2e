package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// tx runs the store's queries: in a write transaction (sqlTx set), in a
// group commit's transaction (batch set), or straight on the read pool, as
// cached prepared statements, since preparing costs as much as a small
// query. A group commit's statements are prepared on its connection.
type tx struct {
	db    *DB
	pool  *sql.DB
	sqlTx *sql.Tx
	batch *batchConn
	// detached runs statements without their caller's cancellation: reads
	// are short, and a cancellable context costs the drivers a goroutine per
	// statement; a group commit must not be interrupted by one caller.
	detached bool
}

// prepared is the statement that runs q, or nil to run q unprepared in
// the transaction.
func (t *tx) prepared(ctx context.Context, q string) (*sql.Stmt, error) {
	switch {
	case t.batch != nil:
		return t.batch.stmt(ctx, q)
	case t.sqlTx == nil:
		return t.db.stmt(ctx, t.pool, q)
	}
	return nil, nil
}

// writing tells a write transaction from a read.
func (t *tx) writing() bool { return t.sqlTx != nil || t.batch != nil }

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if t.detached {
		ctx = context.WithoutCancel(ctx)
	}
	q = rebind(&t.db.dialect, q)
	var res sql.Result
	s, err := t.prepared(ctx, q)
	switch {
	case err != nil:
	case s != nil:
		res, err = s.ExecContext(ctx, args...)
	default:
		res, err = t.sqlTx.ExecContext(ctx, q, args...)
	}
	if err != nil && t.db.dialect.IsUnique(err) {
		return nil, store.ErrConflict
	}
	return res, err
}

// row is QueryRow; a failed prepare surfaces at Scan, as QueryRow's errors do.
func (t *tx) row(ctx context.Context, q string, args ...any) rowScanner {
	if t.detached {
		ctx = context.WithoutCancel(ctx)
	}
	q = rebind(&t.db.dialect, q)
	s, err := t.prepared(ctx, q)
	switch {
	case err != nil:
		return errRow{err}
	case s != nil:
		return s.QueryRowContext(ctx, args...)
	}
	return t.sqlTx.QueryRowContext(ctx, q, args...)
}

func (t *tx) rows(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if t.detached {
		ctx = context.WithoutCancel(ctx)
	}
	q = rebind(&t.db.dialect, q)
	s, err := t.prepared(ctx, q)
	switch {
	case err != nil:
		return nil, err
	case s != nil:
		return s.QueryContext(ctx, args...)
	}
	return t.sqlTx.QueryContext(ctx, q, args...)
}

type rowScanner interface{ Scan(...any) error }

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// collect scans every row with scan.
func collect[T any](rows *sql.Rows, err error, scan func(*sql.Rows) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func mustAffect(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

// --- meta

func (t *tx) GetMeta(ctx context.Context, key string) (string, error) {
	var v string
	err := t.row(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	return v, notFound(err)
}

func (t *tx) PutMetaIfAbsent(ctx context.Context, key, value string) (bool, error) {
	res, err := t.exec(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, key, value)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// --- organization and instance

func (t *tx) InsertOrganization(ctx context.Context, o store.Organization) error {
	_, err := t.exec(ctx, `INSERT INTO organizations (id, arn, feature_set, management_account_id, management_account_email, root_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, o.ID, o.ARN, o.FeatureSet, o.ManagementAccountID, o.ManagementAccountEmail, o.RootID, ms(o.CreatedAt))
	return err
}

func (t *tx) GetOrganization(ctx context.Context) (*store.Organization, error) {
	var o store.Organization
	var created int64
	err := t.row(ctx, `SELECT id, arn, feature_set, management_account_id, management_account_email, root_id, created_at FROM organizations`).
		Scan(&o.ID, &o.ARN, &o.FeatureSet, &o.ManagementAccountID, &o.ManagementAccountEmail, &o.RootID, &created)
	if err != nil {
		return nil, notFound(err)
	}
	o.CreatedAt = fromMS(created)
	return &o, nil
}

const instanceCols = `arn, identity_store_id, owner_account_id, name, status, encryption_key_type, kms_key_arn, created_at`

func scanInstance(r scanner) (store.Instance, error) {
	var in store.Instance
	var created int64
	err := r.Scan(&in.ARN, &in.IdentityStoreID, &in.OwnerAccountID, &in.Name, &in.Status, &in.EncryptionKeyType, &in.KMSKeyARN, &created)
	in.CreatedAt = fromMS(created)
	return in, err
}

func (t *tx) InsertInstance(ctx context.Context, in store.Instance) error {
	_, err := t.exec(ctx, `INSERT INTO instances (`+instanceCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		in.ARN, in.IdentityStoreID, in.OwnerAccountID, in.Name, in.Status, in.EncryptionKeyType, in.KMSKeyARN, ms(in.CreatedAt))
	return err
}

func (t *tx) ListInstances(ctx context.Context) ([]store.Instance, error) {
	rows, err := t.rows(ctx, `SELECT `+instanceCols+` FROM instances ORDER BY created_at, arn`)
	return collect(rows, err, func(r *sql.Rows) (store.Instance, error) { return scanInstance(r) })
}

// --- accounts

const accountCols = `id, name, email, parent_id, status, state, joined_method, joined_at`

type scanner interface{ Scan(...any) error }

func scanAccount(r scanner) (store.Account, error) {
	var a store.Account
	var joined int64
	err := r.Scan(&a.ID, &a.Name, &a.Email, &a.ParentID, &a.Status, &a.State, &a.JoinedMethod, &joined)
	a.JoinedAt = fromMS(joined)
	return a, err
}

func (t *tx) InsertAccount(ctx context.Context, a store.Account) error {
	_, err := t.exec(ctx, `INSERT INTO accounts (`+accountCols+`, email_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Name, a.Email, a.ParentID, a.Status, a.State, a.JoinedMethod, ms(a.JoinedAt), strings.ToLower(a.Email))
	return err
}

func (t *tx) GetAccount(ctx context.Context, id string) (*store.Account, error) {
	a, err := scanAccount(t.row(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err)
	}
	return &a, nil
}

func (t *tx) GetAccountByEmail(ctx context.Context, email string) (*store.Account, error) {
	a, err := scanAccount(t.row(ctx, `SELECT `+accountCols+` FROM accounts WHERE email_key = ?`, strings.ToLower(email)))
	if err != nil {
		return nil, notFound(err)
	}
	return &a, nil
}

func (t *tx) ListAccounts(ctx context.Context, parent, after string, limit int) ([]store.Account, error) {
	var rows *sql.Rows
	var err error
	if parent == "" {
		rows, err = t.rows(ctx, `SELECT `+accountCols+` FROM accounts WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	} else {
		rows, err = t.rows(ctx, `SELECT `+accountCols+` FROM accounts WHERE parent_id = ? AND id > ? ORDER BY id LIMIT ?`, parent, after, limit)
	}
	return collect(rows, err, func(r *sql.Rows) (store.Account, error) { return scanAccount(r) })
}

func (t *tx) UpdateAccount(ctx context.Context, id string, fn func(*store.Account) error) (*store.Account, error) {
	a, err := scanAccount(t.row(ctx, `SELECT `+accountCols+` FROM accounts WHERE id = ?`+t.db.dialect.ForUpdate, id))
	if err != nil {
		return nil, notFound(err)
	}
	if err := fn(&a); err != nil {
		return nil, err
	}
	a.ID = id
	_, err = t.exec(ctx, `UPDATE accounts SET name = ?, email = ?, email_key = ?, parent_id = ?, status = ?, state = ?, joined_method = ?, joined_at = ? WHERE id = ?`,
		a.Name, a.Email, strings.ToLower(a.Email), a.ParentID, a.Status, a.State, a.JoinedMethod, ms(a.JoinedAt), id)
	if err != nil {
		return nil, err
	}
	return &a, nil
}

// --- organizational units

const ouCols = `id, name, parent_id, created_at`

func scanOU(r scanner) (store.OrganizationalUnit, error) {
	var ou store.OrganizationalUnit
	var created int64
	err := r.Scan(&ou.ID, &ou.Name, &ou.ParentID, &created)
	ou.CreatedAt = fromMS(created)
	return ou, err
}

func (t *tx) InsertOrganizationalUnit(ctx context.Context, ou store.OrganizationalUnit) error {
	_, err := t.exec(ctx, `INSERT INTO organizational_units (`+ouCols+`) VALUES (?, ?, ?, ?)`, ou.ID, ou.Name, ou.ParentID, ms(ou.CreatedAt))
	return err
}

func (t *tx) GetOrganizationalUnit(ctx context.Context, id string) (*store.OrganizationalUnit, error) {
	ou, err := scanOU(t.row(ctx, `SELECT `+ouCols+` FROM organizational_units WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err)
	}
	return &ou, nil
}

func (t *tx) ListOrganizationalUnits(ctx context.Context, parent, after string, limit int) ([]store.OrganizationalUnit, error) {
	rows, err := t.rows(ctx, `SELECT `+ouCols+` FROM organizational_units WHERE parent_id = ? AND id > ? ORDER BY id LIMIT ?`, parent, after, limit)
	return collect(rows, err, func(r *sql.Rows) (store.OrganizationalUnit, error) { return scanOU(r) })
}

func (t *tx) UpdateOrganizationalUnit(ctx context.Context, id string, fn func(*store.OrganizationalUnit) error) (*store.OrganizationalUnit, error) {
	ou, err := scanOU(t.row(ctx, `SELECT `+ouCols+` FROM organizational_units WHERE id = ?`+t.db.dialect.ForUpdate, id))
	if err != nil {
		return nil, notFound(err)
	}
	if err := fn(&ou); err != nil {
		return nil, err
	}
	ou.ID = id
	if _, err := t.exec(ctx, `UPDATE organizational_units SET name = ?, parent_id = ? WHERE id = ?`, ou.Name, ou.ParentID, id); err != nil {
		return nil, err
	}
	return &ou, nil
}

func (t *tx) DeleteOrganizationalUnit(ctx context.Context, id string) error {
	return mustAffect(t.exec(ctx, `DELETE FROM organizational_units WHERE id = ?`, id))
}

// --- create-account requests

const carCols = `id, account_name, email, state, failure_reason, account_id, requested_at, completed_at`

func scanCAR(r scanner) (store.CreateAccountRequest, error) {
	var c store.CreateAccountRequest
	var req, done int64
	err := r.Scan(&c.ID, &c.AccountName, &c.Email, &c.State, &c.FailureReason, &c.AccountID, &req, &done)
	c.RequestedAt, c.CompletedAt = fromMS(req), fromMS(done)
	return c, err
}

func (t *tx) InsertCreateAccountRequest(ctx context.Context, c store.CreateAccountRequest) error {
	_, err := t.exec(ctx, `INSERT INTO create_account_requests (`+carCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.AccountName, c.Email, c.State, c.FailureReason, c.AccountID, ms(c.RequestedAt), ms(c.CompletedAt))
	return err
}

func (t *tx) GetCreateAccountRequest(ctx context.Context, id string) (*store.CreateAccountRequest, error) {
	c, err := scanCAR(t.row(ctx, `SELECT `+carCols+` FROM create_account_requests WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err)
	}
	return &c, nil
}

func (t *tx) ListCreateAccountRequests(ctx context.Context, states []string, after string, limit int) ([]store.CreateAccountRequest, error) {
	q := `SELECT ` + carCols + ` FROM create_account_requests WHERE id > ?`
	args := []any{after}
	if len(states) > 0 {
		q += ` AND state IN (?` + strings.Repeat(", ?", len(states)-1) + `)`
		for _, s := range states {
			args = append(args, s)
		}
	}
	q += ` ORDER BY id LIMIT ?`
	args = append(args, limit)
	rows, err := t.rows(ctx, q, args...)
	return collect(rows, err, func(r *sql.Rows) (store.CreateAccountRequest, error) { return scanCAR(r) })
}

func (t *tx) UpdateCreateAccountRequest(ctx context.Context, id string, fn func(*store.CreateAccountRequest) error) (*store.CreateAccountRequest, error) {
	c, err := scanCAR(t.row(ctx, `SELECT `+carCols+` FROM create_account_requests WHERE id = ?`+t.db.dialect.ForUpdate, id))
	if err != nil {
		return nil, notFound(err)
	}
	if err := fn(&c); err != nil {
		return nil, err
	}
	_, err = t.exec(ctx, `UPDATE create_account_requests SET account_name = ?, email = ?, state = ?, failure_reason = ?, account_id = ?, completed_at = ? WHERE id = ?`,
		c.AccountName, c.Email, c.State, c.FailureReason, c.AccountID, ms(c.CompletedAt), id)
	if err != nil {
		return nil, err
	}
	c.ID = id
	return &c, nil
}

// --- tags

func (t *tx) PutTags(ctx context.Context, resource string, tags []store.Tag) error {
	for _, tag := range tags {
		_, err := t.exec(ctx, `INSERT INTO tags (resource_id, key, value) VALUES (?, ?, ?) ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value`,
			resource, tag.Key, tag.Value)
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) DeleteTags(ctx context.Context, resource string, keys []string) error {
	for _, k := range keys {
		if _, err := t.exec(ctx, `DELETE FROM tags WHERE resource_id = ? AND key = ?`, resource, k); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) ListTags(ctx context.Context, resource string) ([]store.Tag, error) {
	rows, err := t.rows(ctx, `SELECT key, value FROM tags WHERE resource_id = ? ORDER BY key`, resource)
	return collect(rows, err, func(r *sql.Rows) (store.Tag, error) {
		var tag store.Tag
		return tag, r.Scan(&tag.Key, &tag.Value)
	})
}

// --- access keys

func (t *tx) PutAccessKey(ctx context.Context, k store.AccessKey) error {
	_, err := t.exec(ctx, `INSERT INTO access_keys (id, secret, account_id, principal_arn, user_id, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET secret = excluded.secret, account_id = excluded.account_id, principal_arn = excluded.principal_arn,
		user_id = excluded.user_id, status = excluded.status`,
		k.ID, k.Secret, k.AccountID, k.PrincipalARN, k.UserID, k.Status, ms(k.CreatedAt))
	return err
}

func (t *tx) GetAccessKey(ctx context.Context, id string) (*store.AccessKey, error) {
	var k store.AccessKey
	var created int64
	err := t.row(ctx, `SELECT id, secret, account_id, principal_arn, user_id, status, created_at FROM access_keys WHERE id = ?`, id).
		Scan(&k.ID, &k.Secret, &k.AccountID, &k.PrincipalARN, &k.UserID, &k.Status, &created)
	if err != nil {
		return nil, notFound(err)
	}
	k.CreatedAt = fromMS(created)
	return &k, nil
}

// --- audit

const auditCols = `id, time, source, event_name, read_only, principal_arn, account_id, access_key_id, source_ip, user_agent, request_id, request_params, error_code, error_message`

func (t *tx) AppendAudit(ctx context.Context, e store.AuditEvent) error {
	_, err := t.exec(ctx, `INSERT INTO audit_events (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, ms(e.Time), e.Source, e.EventName, e.ReadOnly, e.PrincipalARN, e.AccountID, e.AccessKeyID, e.SourceIP, e.UserAgent,
		e.RequestID, e.RequestParams, e.ErrorCode, e.ErrorMessage)
	return err
}

func (t *tx) ListAudit(ctx context.Context, before store.AuditCursor, limit int) ([]store.AuditEvent, error) {
	q := `SELECT ` + auditCols + ` FROM audit_events`
	var args []any
	if !before.Time.IsZero() {
		q += ` WHERE time < ? OR (time = ? AND id < ?)`
		args = append(args, ms(before.Time), ms(before.Time), before.ID)
	}
	q += ` ORDER BY time DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := t.rows(ctx, q, args...)
	return collect(rows, err, func(r *sql.Rows) (store.AuditEvent, error) {
		var e store.AuditEvent
		var at int64
		err := r.Scan(&e.ID, &at, &e.Source, &e.EventName, &e.ReadOnly, &e.PrincipalARN, &e.AccountID, &e.AccessKeyID, &e.SourceIP,
			&e.UserAgent, &e.RequestID, &e.RequestParams, &e.ErrorCode, &e.ErrorMessage)
		e.Time = fromMS(at)
		return e, err
	})
}

// --- jobs

func (t *tx) EnqueueJob(ctx context.Context, j store.Job) error {
	_, err := t.exec(ctx, `INSERT INTO jobs (id, kind, payload, run_after, locked_by, locked_until, attempts, last_error, created_at)
		VALUES (?, ?, ?, ?, '', 0, 0, '', ?)`, j.ID, j.Kind, string(j.Payload), ms(j.RunAfter), ms(j.CreatedAt))
	return err
}

// dueJob selects the oldest due job of one of kinds (locked and skipped by
// others on PostgreSQL), with its arguments after those of the statement
// around it.
func (t *tx) dueJob(cols string, kinds []string, now time.Time, args ...any) (string, []any) {
	args = append(args, ms(now), ms(now))
	for _, k := range kinds {
		args = append(args, k)
	}
	return `SELECT ` + cols + ` FROM jobs WHERE run_after <= ? AND locked_until < ? AND kind IN (?` + strings.Repeat(", ?", len(kinds)-1) + `)
		ORDER BY run_after, created_at LIMIT 1` + t.db.dialect.SkipLocked, args
}

const jobCols = `id, kind, payload, run_after, attempts, last_error, created_at, locked_by`

func scanJob(r scanner) (*store.Job, error) {
	var j store.Job
	var payload string
	var runAfter, created int64
	if err := r.Scan(&j.ID, &j.Kind, &payload, &runAfter, &j.Attempts, &j.LastError, &created, &j.Holder); err != nil {
		return nil, notFound(err)
	}
	j.Payload, j.RunAfter, j.CreatedAt = []byte(payload), fromMS(runAfter), fromMS(created)
	return &j, nil
}

func (t *tx) ClaimJob(ctx context.Context, kinds []string, worker string, now, leaseUntil time.Time) (*store.Job, error) {
	if len(kinds) == 0 {
		return nil, store.ErrNotFound
	}
	due, args := t.dueJob("id", kinds, now, worker, ms(leaseUntil))
	return scanJob(t.row(ctx, `UPDATE jobs SET locked_by = ?, locked_until = ?, attempts = attempts + 1
		WHERE id = (`+due+`) RETURNING `+jobCols, args...))
}

func (t *tx) TakeJob(ctx context.Context, kinds []string, now time.Time) (*store.Job, error) {
	if len(kinds) == 0 {
		return nil, store.ErrNotFound
	}
	// One statement takes and finishes: the job's work commits with its removal.
	due, args := t.dueJob("id", kinds, now)
	return scanJob(t.row(ctx, `DELETE FROM jobs WHERE id = (`+due+`) RETURNING `+jobCols, args...))
}

func (t *tx) FinishJob(ctx context.Context, id, worker string) error {
	err := mustAffect(t.exec(ctx, `DELETE FROM jobs WHERE id = ? AND locked_by = ?`, id, worker))
	if errors.Is(err, store.ErrNotFound) {
		return store.ErrLeaseLost
	}
	return err
}

func (t *tx) RetryJob(ctx context.Context, id, worker string, runAfter time.Time, reason string) error {
	err := mustAffect(t.exec(ctx, `UPDATE jobs SET locked_by = '', locked_until = 0, run_after = ?, last_error = ? WHERE id = ? AND locked_by = ?`,
		ms(runAfter), reason, id, worker))
	if errors.Is(err, store.ErrNotFound) {
		return store.ErrLeaseLost
	}
	return err
}
