package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

var scimTests = []namedTest{
	{"ScimTokens", testScimTokens},
	{"ScimTokenSlotsHoldUnderRace", testScimTokenRace},
	{"ScimPagesByPosition", testScimPages},
}

func testScimPages(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error {
		for i := range 5 {
			if err := tx.InsertUser(ctx, user(i+1, fmt.Sprintf("u%d", i+1))); err != nil {
				return err
			}
			if err := tx.InsertGroup(ctx, group(100+i, fmt.Sprintf("g%d", i+1))); err != nil {
				return err
			}
		}
		other := user(50, "elsewhere")
		other.IdentityStoreID = storeB
		return tx.InsertUser(ctx, other)
	})
	read(t, s, func(tx store.Tx) error {
		if n, err := tx.CountUsers(ctx, storeA); err != nil || n != 5 {
			t.Fatalf("CountUsers = %d, %v; want 5", n, err)
		}
		if n, err := tx.CountGroups(ctx, storeA); err != nil || n != 5 {
			t.Fatalf("CountGroups = %d, %v; want 5", n, err)
		}
		users, err := tx.ListUsersAt(ctx, storeA, 1, 2)
		if err != nil || len(users) != 2 || users[0].ID != dirID(2) || users[1].ID != dirID(3) {
			t.Fatalf("ListUsersAt(1, 2) = %+v, %v", users, err)
		}
		if users, err := tx.ListUsersAt(ctx, storeA, 4, 10); err != nil || len(users) != 1 || users[0].UserName != "u5" {
			t.Fatalf("ListUsersAt(4, 10) = %+v, %v", users, err)
		}
		groups, err := tx.ListGroupsAt(ctx, storeA, 3, 5)
		if err != nil || len(groups) != 2 || groups[0].ID != dirID(103) {
			t.Fatalf("ListGroupsAt(3, 5) = %+v, %v", groups, err)
		}
		return nil
	})
}

func scimToken(n int, storeID string, created, expires time.Time) store.ScimToken {
	return store.ScimToken{ID: fmt.Sprintf("scim-%04d", n), IdentityStoreID: storeID, SourceID: "", TokenHash: fmt.Sprintf("%064x", n),
		CreatedAt: created, CreatedBy: "arn:aws:iam::111111111111:root", ExpiresAt: expires}
}

func testScimTokens(t *testing.T, s store.Store) {
	t0 := now()
	a := scimToken(1, "d-1111111111", t0, t0.Add(time.Hour))
	a.SourceID = "idp-0123456789abcdef"
	b := scimToken(2, "d-1111111111", t0, t0.Add(time.Hour))
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertScimToken(ctx, a, 2); err != nil {
			return err
		}
		return tx.InsertScimToken(ctx, b, 2)
	})
	// A third live token finds no slot; another store has its own.
	if err := s.Write(ctx, func(tx store.Tx) error {
		return tx.InsertScimToken(ctx, scimToken(3, "d-1111111111", t0, t0.Add(time.Hour)), 2)
	}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("third live token: %v; want ErrConflict", err)
	}
	write(t, s, func(tx store.Tx) error {
		return tx.InsertScimToken(ctx, scimToken(4, "d-2222222222", t0, t0.Add(time.Hour)), 2)
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetScimTokenByHash(ctx, a.TokenHash)
		if err != nil || *got != a {
			t.Fatalf("GetScimTokenByHash = %+v, %v; want %+v", got, err, a)
		}
		if _, err := tx.GetScimTokenByHash(ctx, fmt.Sprintf("%064x", 99)); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown hash: %v", err)
		}
		list, err := tx.ListScimTokens(ctx, "d-1111111111")
		if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
			t.Fatalf("ListScimTokens = %+v, %v", list, err)
		}
		return nil
	})
	// Revoking frees a slot; revoking twice keeps the first time; another
	// store's id is not found.
	write(t, s, func(tx store.Tx) error { return tx.RevokeScimToken(ctx, "d-1111111111", a.ID, t0.Add(time.Minute)) })
	write(t, s, func(tx store.Tx) error { return tx.RevokeScimToken(ctx, "d-1111111111", a.ID, t0.Add(2*time.Minute)) })
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.RevokeScimToken(ctx, "d-2222222222", a.ID, t0) }); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("revoke in another store: %v; want ErrNotFound", err)
	}
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetScimTokenByHash(ctx, a.TokenHash)
		if err != nil || !got.RevokedAt.Equal(t0.Add(time.Minute)) || got.Live(t0.Add(2*time.Minute)) {
			t.Fatalf("revoked token = %+v, %v", got, err)
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error {
		return tx.InsertScimToken(ctx, scimToken(5, "d-1111111111", t0, t0.Add(time.Hour)), 2)
	})
	// An expired token gives its slot back to the next insert.
	later := t0.Add(2 * time.Hour)
	write(t, s, func(tx store.Tx) error {
		return tx.InsertScimToken(ctx, scimToken(6, "d-1111111111", later, later.Add(time.Hour)), 2)
	})
	if err := s.Write(ctx, func(tx store.Tx) error {
		return tx.InsertScimToken(ctx, scimToken(7, "d-1111111111", later, later.Add(time.Hour)), 2)
	}); err != nil {
		t.Fatalf("insert after both live tokens expired: %v", err)
	}
	if err := s.Write(ctx, func(tx store.Tx) error {
		return tx.InsertScimToken(ctx, scimToken(8, "d-1111111111", later, later.Add(time.Hour)), 2)
	}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("third token after expiry: %v; want ErrConflict", err)
	}
}

func testScimTokenRace(t *testing.T, s store.Store) {
	t0 := now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	made := 0
	for i := range 8 {
		wg.Go(func() {
			err := s.Write(ctx, func(tx store.Tx) error {
				return tx.InsertScimToken(ctx, scimToken(100+i, "d-3333333333", t0, t0.Add(time.Hour)), 2)
			})
			if err == nil {
				mu.Lock()
				made++
				mu.Unlock()
			} else if !errors.Is(err, store.ErrConflict) {
				t.Errorf("insert %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	var live int
	read(t, s, func(tx store.Tx) error {
		list, err := tx.ListScimTokens(ctx, "d-3333333333")
		for _, tok := range list {
			if tok.Live(t0) {
				live++
			}
		}
		return err
	})
	if made > 2 || live != made || made == 0 {
		t.Fatalf("%d concurrent inserts succeeded, %d live tokens; want 1 or 2 of each", made, live)
	}
}
