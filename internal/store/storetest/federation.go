package storetest

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

var federationTests = []namedTest{
	{"IdentitySources", testIdentitySources},
	{"UsersKeepTheirSource", testUsersKeepTheirSource},
	{"UseOnceOnlyOnceUnderRace", testUseOnce},
	{"SecretMadeOnceAndShared", testSecret},
}

func identitySource(id, name string) store.IdentitySource {
	return store.IdentitySource{IdentityStoreID: "d-1", ID: id, Name: name, Kind: "saml", Enabled: true,
		EmailDomains: []string{"example.com", "corp.example.com"}, MFA: "trust", JIT: true, Config: []byte(`{"MetadataXML":"<x/>"}`),
		CreatedAt: now(), UpdatedAt: now()}
}

func testIdentitySources(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertIdentitySource(ctx, identitySource("idp-b", "Okta")); err != nil {
			return err
		}
		if err := tx.InsertIdentitySource(ctx, identitySource("idp-a", "Azure")); err != nil {
			return err
		}
		other := identitySource("idp-d", "Okta")
		other.IdentityStoreID = "d-2"
		return tx.InsertIdentitySource(ctx, other) // names are per store
	})
	if err := s.Write(ctx, func(tx store.Tx) error {
		return tx.InsertIdentitySource(ctx, identitySource("idp-c", "OKTA"))
	}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("a name taken ignoring case: %v", err)
	}
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetIdentitySourceByName(ctx, "d-1", "okta")
		if err != nil || got.ID != "idp-b" || !got.Enabled || !got.JIT || got.MFA != "trust" || len(got.EmailDomains) != 2 ||
			string(got.Config) != `{"MetadataXML":"<x/>"}` || got.CreatedAt.IsZero() {
			t.Errorf("by name: %+v %v", got, err)
		}
		if _, err := tx.GetIdentitySource(ctx, "d-2", "idp-b"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("another store's source: %v", err)
		}
		list, err := tx.ListIdentitySources(ctx, "d-1")
		if err != nil || len(list) != 2 || list[0].Name != "Azure" || list[1].Name != "Okta" {
			t.Errorf("list: %+v %v", list, err)
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error {
		got, err := tx.UpdateIdentitySource(ctx, "d-1", "idp-b", func(src *store.IdentitySource) error {
			src.Enabled, src.EmailDomains, src.ID = false, nil, "changed"
			return nil
		})
		if err != nil || got.ID != "idp-b" || got.Enabled {
			t.Errorf("update: %+v %v", got, err)
		}
		return nil
	})
	if err := s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateIdentitySource(ctx, "d-1", "idp-b", func(src *store.IdentitySource) error {
			src.Name = "azure"
			return nil
		})
		return err
	}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("rename onto another: %v", err)
	}
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetIdentitySource(ctx, "d-1", "idp-b")
		if err != nil || got.Enabled || len(got.EmailDomains) != 0 {
			t.Errorf("after update: %+v %v", got, err)
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error {
		if err := tx.DeleteIdentitySource(ctx, "d-1", "idp-b"); err != nil {
			return err
		}
		if err := tx.DeleteIdentitySource(ctx, "d-1", "idp-b"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second delete: %v", err)
		}
		return nil
	})
}

func testUsersKeepTheirSource(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertUser(ctx, store.User{IdentityStoreID: "d-1", ID: "u1", UserName: "ann", Status: store.UserEnabled, SourceID: "idp-a"}); err != nil {
			return err
		}
		return tx.InsertUser(ctx, store.User{IdentityStoreID: "d-1", ID: "u2", UserName: "bob", Status: store.UserEnabled})
	})
	write(t, s, func(tx store.Tx) error {
		_, err := tx.UpdateUser(ctx, "d-1", "u2", func(u *store.User) error { u.SourceID = "idp-a"; return nil })
		return err
	})
	read(t, s, func(tx store.Tx) error {
		u, err := tx.GetUser(ctx, "d-1", "u1")
		if err != nil || u.SourceID != "idp-a" {
			t.Errorf("u1: %+v %v", u, err)
		}
		n, err := tx.CountSourceUsers(ctx, "d-1", "idp-a")
		if err != nil || n != 2 {
			t.Errorf("count: %d %v", n, err)
		}
		if n, _ := tx.CountSourceUsers(ctx, "d-1", ""); n != 0 {
			t.Errorf("built-in users: %d", n)
		}
		return nil
	})
}

func testUseOnce(t *testing.T, s store.Store) {
	later := time.Now().Add(time.Hour)
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			err := s.Write(ctx, func(tx store.Tx) error {
				ok, err := tx.UseOnce(ctx, "saml:assertion-1", later)
				if ok {
					won.Add(1)
				}
				return err
			})
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d callers used one key", won.Load())
	}
	write(t, s, func(tx store.Tx) error {
		// An expired mark may be used again; forgetting removes only the expired.
		if ok, err := tx.UseOnce(ctx, "k-expired", time.Now().Add(-time.Second)); err != nil || !ok {
			t.Errorf("first use: %v %v", ok, err)
		}
		if ok, err := tx.UseOnce(ctx, "k-expired", later); err != nil || !ok {
			t.Errorf("use after expiry: %v %v", ok, err)
		}
		if ok, err := tx.UseOnce(ctx, "k-expired", later); err != nil || ok {
			t.Errorf("replay: %v %v", ok, err)
		}
		if _, err := tx.UseOnce(ctx, "k-old", time.Now().Add(-time.Minute)); err != nil {
			return err
		}
		n, err := tx.DeleteUsedBefore(ctx, time.Now())
		if err != nil || n != 1 {
			t.Errorf("forget: %d %v", n, err)
		}
		if ok, _ := tx.UseOnce(ctx, "saml:assertion-1", later); ok {
			t.Error("a live mark was forgotten")
		}
		return nil
	})
}

// testSecret: the first caller makes the key, every later one (any node)
// reads the same; a damaged stored key is an error, never a short key.
func testSecret(t *testing.T, s store.Store) {
	a, err := store.Secret(ctx, s, "test-key")
	if err != nil || len(a) != 32 {
		t.Fatalf("first: %x %v", a, err)
	}
	b, err := store.Secret(ctx, s, "test-key")
	if err != nil || string(a) != string(b) {
		t.Fatalf("second call made another key: %x %x %v", a, b, err)
	}
	if c, _ := store.Secret(ctx, s, "other-key"); string(c) == string(a) {
		t.Fatal("two names share a key")
	}
	write(t, s, func(tx store.Tx) error { _, err := tx.PutMetaIfAbsent(ctx, "short-key", "abcd"); return err })
	if _, err := store.Secret(ctx, s, "short-key"); err == nil {
		t.Fatal("a damaged key was accepted")
	}
}
