package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// signinTests are the conformance tests of store.SigninTx.
var signinTests = []namedTest{
	{"SigninPasswords", testSigninPasswords},
	{"SigninMFADevices", testSigninMFADevices},
	{"SigninMFADeviceLimitHoldsUnderRace", testSigninMFADeviceLimitRace},
	{"SigninTOTPStepConsumedOnceUnderRace", testSigninTOTPStepRace},
	{"SigninUserDeleteTakesCredentials", testSigninUserDelete},
	{"SigninThrottles", testSigninThrottles},
	{"SigninThrottleCountsEveryFailureUnderRace", testSigninThrottleRace},
	{"SigninSettings", testSigninSettings},
}

func totpDevice(n int, userID string) store.MFADevice {
	return store.MFADevice{ID: fmt.Sprintf("dev-%03d", n), IdentityStoreID: storeA, UserID: userID, Type: store.MFATOTP,
		Name: fmt.Sprintf("phone %d", n), Secret: []byte{0, 1, 2, byte(n), 0xff}, LastStep: 100, CreatedAt: now().Add(time.Duration(n) * time.Millisecond)}
}

func webauthnDevice(n int, userID string) store.MFADevice {
	return store.MFADevice{ID: fmt.Sprintf("key-%03d", n), IdentityStoreID: storeA, UserID: userID, Type: store.MFAWebAuthn,
		Name: fmt.Sprintf("key %d", n), CredentialID: []byte{0xfe, byte(n), 0}, Credential: []byte(fmt.Sprintf(`{"id":%d}`, n)),
		CreatedAt: now().Add(time.Duration(n) * time.Millisecond)}
}

func testSigninPasswords(t *testing.T, s store.Store) {
	u := user(1, "alice")
	write(t, s, func(tx store.Tx) error { return tx.InsertUser(ctx, u) })
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetPassword(ctx, storeA, u.ID)
		isNotFound(t, "password never set", err)
		return nil
	})
	p := store.Password{IdentityStoreID: storeA, UserID: u.ID, Hash: "$argon2id$one", MustChange: true, UpdatedAt: now()}
	write(t, s, func(tx store.Tx) error { return tx.PutPassword(ctx, p) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetPassword(ctx, storeA, u.ID)
		if err != nil || got.Hash != p.Hash || !got.MustChange || !got.UpdatedAt.Equal(p.UpdatedAt) || len(got.Previous) != 0 {
			t.Fatalf("GetPassword = %+v, %v; want %+v", got, err, p)
		}
		_, err = tx.GetPassword(ctx, storeB, u.ID)
		isNotFound(t, "password through another store", err)
		return nil
	})
	next := store.Password{IdentityStoreID: storeA, UserID: u.ID, Hash: "$argon2id$two", Previous: []string{"$argon2id$one", "$argon2id$zero"},
		UpdatedAt: now().Add(time.Second)}
	write(t, s, func(tx store.Tx) error { return tx.PutPassword(ctx, next) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetPassword(ctx, storeA, u.ID)
		if err != nil || !reflect.DeepEqual(*got, next) {
			t.Fatalf("after replacing: %+v, %v; want %+v", got, err, next)
		}
		return nil
	})
	err := s.Write(ctx, func(tx store.Tx) error {
		return tx.PutPassword(ctx, store.Password{IdentityStoreID: storeA, UserID: dirID(99), Hash: "x", UpdatedAt: now()})
	})
	if !errors.Is(err, store.ErrUserMissing) {
		t.Fatalf("password for a missing user = %v; want ErrUserMissing", err)
	}
	err = s.Write(ctx, func(tx store.Tx) error {
		return tx.PutPassword(ctx, store.Password{IdentityStoreID: storeB, UserID: u.ID, Hash: "x", UpdatedAt: now()})
	})
	if !errors.Is(err, store.ErrUserMissing) {
		t.Fatalf("password for a user of another store = %v; want ErrUserMissing", err)
	}
}

func testSigninMFADevices(t *testing.T, s store.Store) {
	u, other := user(1, "alice"), user(2, "bob")
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		return tx.InsertUser(ctx, other)
	})
	phone, key := totpDevice(1, u.ID), webauthnDevice(2, u.ID)
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertMFADevice(ctx, phone, 1); err != nil {
			return err
		}
		return tx.InsertMFADevice(ctx, key, 1) // the limit is per type
	})
	read(t, s, func(tx store.Tx) error {
		list, err := tx.ListMFADevices(ctx, storeA, u.ID)
		if err != nil || len(list) != 2 || !reflect.DeepEqual(list[0], phone) || !reflect.DeepEqual(list[1], key) {
			t.Fatalf("ListMFADevices = %+v, %v; want %+v, %+v", list, err, phone, key)
		}
		if list, err := tx.ListMFADevices(ctx, storeA, other.ID); err != nil || len(list) != 0 {
			t.Fatalf("another user's devices = %+v, %v", list, err)
		}
		if list, err := tx.ListMFADevices(ctx, storeB, u.ID); err != nil || len(list) != 0 {
			t.Fatalf("devices through another store = %+v, %v", list, err)
		}
		return nil
	})
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertMFADevice(ctx, totpDevice(3, u.ID), 1) }); !errors.Is(err, store.ErrLimitReached) {
		t.Fatalf("a second TOTP device under limit 1 = %v; want ErrLimitReached", err)
	}
	// A WebAuthn credential id is registered once in the whole instance.
	dup := webauthnDevice(4, other.ID)
	dup.CredentialID = key.CredentialID
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertMFADevice(ctx, dup, 6) }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a credential id registered twice = %v; want ErrConflict", err)
	}
	missing := totpDevice(5, dirID(99))
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertMFADevice(ctx, missing, 2) }); !errors.Is(err, store.ErrUserMissing) {
		t.Fatalf("a device for a missing user = %v; want ErrUserMissing", err)
	}

	used := now().Add(time.Minute)
	write(t, s, func(tx store.Tx) error {
		got, err := tx.UpdateMFADevice(ctx, storeA, u.ID, phone.ID, func(d *store.MFADevice) error {
			d.LastStep, d.LastUsedAt, d.Name = 101, used, "renamed"
			d.Secret, d.UserID, d.Type = []byte("forged"), other.ID, store.MFAWebAuthn // not changeable
			return nil
		})
		if err != nil || got.LastStep != 101 || !bytes.Equal(got.Secret, phone.Secret) || got.UserID != u.ID {
			t.Fatalf("UpdateMFADevice = %+v, %v", got, err)
		}
		return nil
	})
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateMFADevice(ctx, storeA, u.ID, phone.ID, func(d *store.MFADevice) error { d.LastStep = 500; return boom })
		return err
	})
	if !errors.Is(err, boom) {
		t.Fatalf("closure error = %v", err)
	}
	read(t, s, func(tx store.Tx) error {
		list, _ := tx.ListMFADevices(ctx, storeA, u.ID)
		want := phone
		want.LastStep, want.LastUsedAt, want.Name = 101, used, "renamed"
		if len(list) != 2 || !reflect.DeepEqual(list[0], want) {
			t.Fatalf("after updates: %+v; want %+v", list, want)
		}
		return nil
	})
	err = s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateMFADevice(ctx, storeA, other.ID, phone.ID, func(*store.MFADevice) error { return nil })
		return err
	})
	isNotFound(t, "another user's device", err)
	err = s.Write(ctx, func(tx store.Tx) error { return tx.DeleteMFADevice(ctx, storeA, other.ID, key.ID) })
	isNotFound(t, "deleting another user's device", err)
	write(t, s, func(tx store.Tx) error { return tx.DeleteMFADevice(ctx, storeA, u.ID, key.ID) })
	read(t, s, func(tx store.Tx) error {
		if list, _ := tx.ListMFADevices(ctx, storeA, u.ID); len(list) != 1 || list[0].ID != phone.ID {
			t.Fatalf("after delete: %+v", list)
		}
		return nil
	})
	// Its credential id is free again.
	write(t, s, func(tx store.Tx) error { return tx.InsertMFADevice(ctx, dup, 6) })
}

func testSigninMFADeviceLimitRace(t *testing.T, s store.Store) {
	u := user(1, "alice")
	write(t, s, func(tx store.Tx) error { return tx.InsertUser(ctx, u) })
	const racers, limit = 8, 2
	var ok, limited atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertMFADevice(ctx, totpDevice(10+i, u.ID), limit) })
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrLimitReached):
				limited.Add(1)
			default:
				t.Error(err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if ok.Load() != limit || limited.Load() != racers-limit {
		t.Fatalf("racing inserts under limit %d: %d stored, %d refused", limit, ok.Load(), limited.Load())
	}
}

// Each TOTP time step is accepted once, however many logins race with the same code.
func testSigninTOTPStepRace(t *testing.T, s store.Store) {
	u := user(1, "alice")
	d := totpDevice(1, u.ID)
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertUser(ctx, u); err != nil {
			return err
		}
		return tx.InsertMFADevice(ctx, d, 2)
	})
	used := errors.New("used")
	const racers = 10
	var ok atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := s.Write(ctx, func(tx store.Tx) error {
				_, err := tx.UpdateMFADevice(ctx, storeA, u.ID, d.ID, func(d *store.MFADevice) error {
					if d.LastStep >= 101 {
						return used
					}
					d.LastStep = 101
					return nil
				})
				return err
			})
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, used):
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("one time step was accepted %d times", ok.Load())
	}
}

func testSigninUserDelete(t *testing.T, s store.Store) {
	u, keep := user(1, "alice"), user(2, "bob")
	write(t, s, func(tx store.Tx) error {
		for _, x := range []store.User{u, keep} {
			if err := tx.InsertUser(ctx, x); err != nil {
				return err
			}
			if err := tx.PutPassword(ctx, store.Password{IdentityStoreID: storeA, UserID: x.ID, Hash: "h", UpdatedAt: now()}); err != nil {
				return err
			}
		}
		if err := tx.InsertMFADevice(ctx, totpDevice(1, u.ID), 2); err != nil {
			return err
		}
		if err := tx.InsertMFADevice(ctx, webauthnDevice(2, u.ID), 6); err != nil {
			return err
		}
		return tx.InsertMFADevice(ctx, totpDevice(3, keep.ID), 2)
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteUser(ctx, storeA, u.ID) })
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetPassword(ctx, storeA, u.ID)
		isNotFound(t, "a deleted user's password", err)
		if list, err := tx.ListMFADevices(ctx, storeA, u.ID); err != nil || len(list) != 0 {
			t.Fatalf("a deleted user's devices: %+v, %v", list, err)
		}
		if _, err := tx.GetPassword(ctx, storeA, keep.ID); err != nil {
			t.Fatalf("another user's password went too: %v", err)
		}
		if list, _ := tx.ListMFADevices(ctx, storeA, keep.ID); len(list) != 1 {
			t.Fatalf("another user's devices went too: %+v", list)
		}
		return nil
	})
	// A user made again under the same name starts with nothing, and the
	// deleted user's WebAuthn credential id can be registered again.
	again := user(3, "alice")
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertUser(ctx, again); err != nil {
			return err
		}
		return tx.InsertMFADevice(ctx, webauthnDevice(2, again.ID), 6)
	})
}

func testSigninThrottles(t *testing.T, s store.Store) {
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetThrottle(ctx, "user:d-1111111111/alice")
		isNotFound(t, "an unused throttle", err)
		return nil
	})
	t0 := now()
	write(t, s, func(tx store.Tx) error {
		got, err := tx.UpdateThrottle(ctx, "user:d-1111111111/alice", func(th *store.Throttle) error {
			if th.Failures != 0 || !th.WindowStart.IsZero() || !th.LockedUntil.IsZero() || th.Lockouts != 0 {
				t.Errorf("a new throttle is not zero: %+v", th)
			}
			th.Failures, th.WindowStart, th.UpdatedAt = 1, t0, t0
			return nil
		})
		if err != nil || got.Failures != 1 || got.Key != "user:d-1111111111/alice" {
			t.Fatalf("UpdateThrottle = %+v, %v", got, err)
		}
		_, err = tx.UpdateThrottle(ctx, "source:192.0.2.1", func(th *store.Throttle) error {
			th.Failures, th.WindowStart, th.LockedUntil, th.Lockouts, th.UpdatedAt = 50, t0, t0.Add(time.Hour), 2, t0.Add(-48*time.Hour)
			return nil
		})
		return err
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetThrottle(ctx, "source:192.0.2.1")
		want := store.Throttle{Key: "source:192.0.2.1", Failures: 50, WindowStart: t0, LockedUntil: t0.Add(time.Hour), Lockouts: 2, UpdatedAt: t0.Add(-48 * time.Hour)}
		if err != nil || *got != want {
			t.Fatalf("GetThrottle = %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
	var n int
	write(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteThrottlesBefore(ctx, t0.Add(-24*time.Hour))
		return err
	})
	read(t, s, func(tx store.Tx) error {
		if n != 1 {
			t.Fatalf("DeleteThrottlesBefore removed %d; want 1", n)
		}
		_, err := tx.GetThrottle(ctx, "source:192.0.2.1")
		isNotFound(t, "a swept throttle", err)
		if _, err := tx.GetThrottle(ctx, "user:d-1111111111/alice"); err != nil {
			t.Fatalf("a recent throttle was swept: %v", err)
		}
		return nil
	})
}

// Racing failures under one key are all counted: none is lost to another's write.
func testSigninThrottleRace(t *testing.T, s store.Store) {
	const racers = 20
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := s.Write(ctx, func(tx store.Tx) error {
				_, err := tx.UpdateThrottle(ctx, "source:198.51.100.7", func(th *store.Throttle) error {
					th.Failures++
					return nil
				})
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	close(start)
	wg.Wait()
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetThrottle(ctx, "source:198.51.100.7")
		if err != nil || got.Failures != racers {
			t.Fatalf("after %d racing failures: %+v, %v", racers, got, err)
		}
		return nil
	})
}

func testSigninSettings(t *testing.T, s store.Store) {
	read(t, s, func(tx store.Tx) error {
		if got, err := tx.ListSettings(ctx); err != nil || len(got) != 0 {
			t.Fatalf("settings of a new store = %v, %v", got, err)
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error {
		if err := tx.PutSetting(ctx, "mfa.mode", "optional"); err != nil {
			return err
		}
		if err := tx.PutSetting(ctx, "portal.session-duration", "PT1H"); err != nil {
			return err
		}
		return tx.PutSetting(ctx, "mfa.mode", "off")
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.ListSettings(ctx)
		if want := map[string]string{"mfa.mode": "off", "portal.session-duration": "PT1H"}; err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("ListSettings = %v, %v; want %v", got, err, want)
		}
		return nil
	})
}
