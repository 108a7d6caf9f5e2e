package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

var sessionTests = []namedTest{
	{"SessionCredentials", testSessionCredentials},
	{"SessionCredentialsExpire", testSessionCredentialsExpire},
}

func sessionCredential(n int, expires time.Time) store.SessionCredential {
	session := fmt.Sprintf("session-%d", n)
	return store.SessionCredential{
		AccessKeyID:      fmt.Sprintf("ASIATESTTESTTEST%04d", n),
		Secret:           fmt.Sprintf("%040d", n),
		SessionTokenHash: fmt.Sprintf("%064x", n),
		AccountID:        "222222222222",
		RoleARN:          "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole",
		AssumedRoleARN:   "arn:aws:sts::222222222222:assumed-role/OrganizationAccountAccessRole/" + session,
		AssumedRoleID:    "AROATESTTESTTESTTEST:" + session,
		SessionName:      session,
		SourceARN:        "arn:aws:iam::111111111111:root",
		SessionID:        fmt.Sprintf("signin-%d", n%2),
		OriginARN:        "arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/alice",
		ExpiresAt:        expires,
		Tags:             map[string]string{"CostCenter": fmt.Sprintf("CC-%d", n), "Team": "blue"},
		CreatedAt:        now(),
	}
}

func testSessionCredentials(t *testing.T, s store.Store) {
	c := sessionCredential(1, now().Add(time.Hour))
	write(t, s, func(tx store.Tx) error { return tx.InsertSessionCredential(ctx, c) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetSessionCredential(ctx, c.AccessKeyID)
		if err != nil || !reflect.DeepEqual(*got, c) {
			t.Fatalf("GetSessionCredential = %+v, %v; want %+v", got, err, c)
		}
		if _, err := tx.GetSessionCredential(ctx, "ASIATESTTESTTEST9999"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
		// Key ids are exact: AWS's are upper case and a lower-cased one is another key.
		if _, err := tx.GetSessionCredential(ctx, "asiatesttesttest0001"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("lower-cased key id found a credential: %v", err)
		}
		return nil
	})
	// An access key id is issued once: a second credential under it would let
	// one holder sign as the other.
	other := sessionCredential(2, now().Add(time.Hour))
	other.AccessKeyID = c.AccessKeyID
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertSessionCredential(ctx, other) }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second credential under one key id: %v; want ErrConflict", err)
	}
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetSessionCredential(ctx, c.AccessKeyID)
		if err != nil || got.Secret != c.Secret || got.SessionTokenHash != c.SessionTokenHash {
			t.Fatalf("the first credential changed: %+v, %v", got, err)
		}
		return nil
	})
}

func testSessionCredentialsExpire(t *testing.T, s store.Store) {
	cut := now()
	expired := []store.SessionCredential{sessionCredential(1, cut.Add(-time.Hour)), sessionCredential(2, cut.Add(-time.Millisecond))}
	live := []store.SessionCredential{sessionCredential(3, cut), sessionCredential(4, cut.Add(time.Hour))}
	write(t, s, func(tx store.Tx) error {
		for _, c := range append(append([]store.SessionCredential{}, expired...), live...) {
			if err := tx.InsertSessionCredential(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	var n int
	write(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteExpiredSessionCredentials(ctx, cut)
		return err
	})
	if n != len(expired) {
		t.Fatalf("DeleteExpiredSessionCredentials removed %d; want %d", n, len(expired))
	}
	read(t, s, func(tx store.Tx) error {
		for _, c := range expired {
			if _, err := tx.GetSessionCredential(ctx, c.AccessKeyID); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("%s expired before the cut and is still there: %v", c.AccessKeyID, err)
			}
		}
		for _, c := range live {
			if got, err := tx.GetSessionCredential(ctx, c.AccessKeyID); err != nil || !reflect.DeepEqual(*got, c) {
				t.Fatalf("%s (expires %s, cut %s) = %+v, %v", c.AccessKeyID, c.ExpiresAt, cut, got, err)
			}
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeleteExpiredSessionCredentials(ctx, cut)
		return err
	})
	if n != 0 {
		t.Fatalf("a second sweep removed %d", n)
	}
}
