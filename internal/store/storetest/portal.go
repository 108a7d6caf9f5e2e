package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/atrium-sso/atrium/internal/store"
)

// portalTests are the conformance tests of store.PortalTx.
var portalTests = []namedTest{
	{"PortalSignInSessions", testSignInSessions},
	{"PortalSessionRevocation", testSessionRevocation},
	{"PortalSessionsGoWithTheirUser", testSessionsGoWithUser},
	{"PortalOAuthClients", testOAuthClients},
	{"PortalDeviceAuthorizations", testDeviceAuthorizations},
	{"PortalDeviceCodeRedeemedOnceUnderRace", testDeviceRedeemRace},
	{"PortalAuthorizationCodeUsedOnceUnderRace", testCodeRace},
	{"PortalTokens", testOAuthTokens},
	{"PortalRefreshTokenRotatedOnceUnderRace", testRefreshRace},
	{"PortalExpiredRowsSwept", testPortalExpiry},
}

func signInSession(n int, userID string, expires time.Time) store.SignInSession {
	return store.SignInSession{ID: fmt.Sprintf("ses-%04d", n), TokenHash: fmt.Sprintf("%064x", n), IdentityStoreID: storeA,
		UserID: userID, UserName: "user-" + userID, Methods: []string{"pwd", "totp"}, SourceIP: "192.0.2.7",
		UserAgent: "Mozilla/5.0", CreatedAt: now(), ExpiresAt: expires}
}

func testSignInSessions(t *testing.T, s store.Store) {
	a := signInSession(1, dirID(1), now().Add(8*time.Hour))
	a.Tags = map[string]string{"Department": "R&D"}
	write(t, s, func(tx store.Tx) error { return tx.InsertSignInSession(ctx, a) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetSignInSession(ctx, a.ID)
		if err != nil || !reflect.DeepEqual(*got, a) {
			t.Fatalf("GetSignInSession = %+v, %v; want %+v", got, err, a)
		}
		got, err = tx.GetSignInSessionByToken(ctx, a.TokenHash)
		if err != nil || got.ID != a.ID {
			t.Fatalf("GetSignInSessionByToken = %+v, %v", got, err)
		}
		_, err = tx.GetSignInSessionByToken(ctx, fmt.Sprintf("%064x", 99))
		isNotFound(t, "unknown token", err)
		_, err = tx.GetSignInSession(ctx, "ses-9999")
		isNotFound(t, "unknown session", err)
		return nil
	})
	// Two sessions under one cookie would let one holder act as the other.
	dup := signInSession(2, dirID(2), now().Add(time.Hour))
	dup.TokenHash = a.TokenHash
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertSignInSession(ctx, dup) }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second session under one token: %v; want ErrConflict", err)
	}

	// Listing: live sessions only, by id, per store, per user, in pages.
	cut := now()
	sessions := []store.SignInSession{
		signInSession(10, dirID(1), cut.Add(time.Hour)),
		signInSession(11, dirID(2), cut.Add(time.Hour)),
		signInSession(12, dirID(1), cut.Add(-time.Millisecond)), // expired
		signInSession(13, dirID(1), cut.Add(time.Hour)),         // revoked below
		signInSession(14, dirID(1), cut.Add(time.Hour)),
	}
	other := signInSession(15, dirID(1), cut.Add(time.Hour))
	other.IdentityStoreID = storeB
	write(t, s, func(tx store.Tx) error {
		for _, x := range append(sessions, other) {
			if err := tx.InsertSignInSession(ctx, x); err != nil {
				return err
			}
		}
		return tx.RevokeSignInSession(ctx, "ses-0013", cut)
	})
	ids := func(list []store.SignInSession) []string {
		var out []string
		for _, x := range list {
			out = append(out, x.ID)
		}
		return out
	}
	read(t, s, func(tx store.Tx) error {
		all, err := tx.ListSignInSessions(ctx, storeA, "", cut, "", 100)
		if want := []string{"ses-0001", "ses-0010", "ses-0011", "ses-0014"}; err != nil || !reflect.DeepEqual(ids(all), want) {
			t.Fatalf("ListSignInSessions = %v, %v; want %v", ids(all), err, want)
		}
		mine, err := tx.ListSignInSessions(ctx, storeA, dirID(1), cut, "", 100)
		if want := []string{"ses-0001", "ses-0010", "ses-0014"}; err != nil || !reflect.DeepEqual(ids(mine), want) {
			t.Fatalf("ListSignInSessions of a user = %v, %v; want %v", ids(mine), err, want)
		}
		page, err := tx.ListSignInSessions(ctx, storeA, dirID(1), cut, "ses-0001", 1)
		if err != nil || !reflect.DeepEqual(ids(page), []string{"ses-0010"}) {
			t.Fatalf("page after ses-0001 = %v, %v", ids(page), err)
		}
		return nil
	})
}

func testSessionRevocation(t *testing.T, s store.Store) {
	first := now().Add(-time.Minute)
	write(t, s, func(tx store.Tx) error {
		for i, u := range []string{dirID(1), dirID(1), dirID(1), dirID(2)} {
			if err := tx.InsertSignInSession(ctx, signInSession(i+1, u, now().Add(time.Hour))); err != nil {
				return err
			}
		}
		return tx.RevokeSignInSession(ctx, "ses-0001", first)
	})
	write(t, s, func(tx store.Tx) error {
		// Revoking again keeps the first time.
		if err := tx.RevokeSignInSession(ctx, "ses-0001", now()); err != nil {
			return err
		}
		isNotFound(t, "revoke unknown session", tx.RevokeSignInSession(ctx, "ses-9999", now()))
		n, err := tx.RevokeUserSignInSessions(ctx, storeA, dirID(1), now())
		if err != nil || n != 2 {
			t.Fatalf("RevokeUserSignInSessions = %d, %v; want 2 (one was revoked already)", n, err)
		}
		n, err = tx.RevokeUserSignInSessions(ctx, storeB, dirID(2), now())
		if err != nil || n != 0 {
			t.Fatalf("revoking in another store = %d, %v", n, err)
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetSignInSession(ctx, "ses-0001")
		if err != nil || !got.RevokedAt.Equal(first) {
			t.Fatalf("first revocation time lost: %+v, %v", got, err)
		}
		for id, revoked := range map[string]bool{"ses-0002": true, "ses-0003": true, "ses-0004": false} {
			got, err := tx.GetSignInSession(ctx, id)
			if err != nil || got.RevokedAt.IsZero() == revoked {
				t.Fatalf("%s = %+v, %v; revoked %v", id, got, err, revoked)
			}
		}
		return nil
	})
}

func testSessionsGoWithUser(t *testing.T, s store.Store) {
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertUser(ctx, user(1, "alice")); err != nil {
			return err
		}
		if err := tx.InsertUser(ctx, user(2, "bob")); err != nil {
			return err
		}
		if err := tx.InsertSignInSession(ctx, signInSession(1, dirID(1), now().Add(time.Hour))); err != nil {
			return err
		}
		return tx.InsertSignInSession(ctx, signInSession(2, dirID(2), now().Add(time.Hour)))
	})
	write(t, s, func(tx store.Tx) error { return tx.DeleteUser(ctx, storeA, dirID(1)) })
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetSignInSession(ctx, "ses-0001")
		isNotFound(t, "session of a deleted user", err)
		if _, err := tx.GetSignInSession(ctx, "ses-0002"); err != nil {
			t.Fatalf("another user's session went too: %v", err)
		}
		return nil
	})
}

func oauthClient(n int) store.OAuthClient {
	return store.OAuthClient{ID: fmt.Sprintf("client-%04d", n), SecretHash: fmt.Sprintf("%064x", n), Name: "botocore-client-dev",
		Type: "public", Scopes: []string{"sso:account:access"}, RedirectURIs: []string{"http://127.0.0.1/oauth/callback"},
		GrantTypes: []string{"authorization_code", "refresh_token"}, IssuerURL: "https://example.awsapps.com/start",
		CreatedAt: now(), SecretExpiresAt: now().Add(90 * 24 * time.Hour)}
}

func testOAuthClients(t *testing.T, s store.Store) {
	c := oauthClient(1)
	bare := oauthClient(2)
	bare.Scopes, bare.RedirectURIs, bare.GrantTypes, bare.IssuerURL = nil, nil, nil, ""
	write(t, s, func(tx store.Tx) error {
		if err := tx.InsertOAuthClient(ctx, c); err != nil {
			return err
		}
		return tx.InsertOAuthClient(ctx, bare)
	})
	read(t, s, func(tx store.Tx) error {
		for _, want := range []store.OAuthClient{c, bare} {
			got, err := tx.GetOAuthClient(ctx, want.ID)
			if err != nil || !reflect.DeepEqual(*got, want) {
				t.Fatalf("GetOAuthClient = %+v, %v; want %+v", got, err, want)
			}
		}
		_, err := tx.GetOAuthClient(ctx, "client-9999")
		isNotFound(t, "unknown client", err)
		return nil
	})
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertOAuthClient(ctx, c) }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("client id registered twice: %v", err)
	}
}

func deviceAuthorization(n int, expires time.Time) store.DeviceAuthorization {
	return store.DeviceAuthorization{DeviceCodeHash: fmt.Sprintf("%064x", n), UserCode: fmt.Sprintf("BCDF-%04d", n), ClientID: "client-0001",
		StartURL: "https://example.awsapps.com/start", Status: store.DevicePending, Interval: 1, ExpiresAt: expires, CreatedAt: now()}
}

func testDeviceAuthorizations(t *testing.T, s store.Store) {
	d := deviceAuthorization(1, now().Add(10*time.Minute))
	write(t, s, func(tx store.Tx) error { return tx.InsertDeviceAuthorization(ctx, d) })
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetDeviceAuthorizationByUserCode(ctx, d.UserCode)
		if err != nil || *got != d {
			t.Fatalf("GetDeviceAuthorizationByUserCode = %+v, %v; want %+v", got, err, d)
		}
		_, err = tx.GetDeviceAuthorizationByUserCode(ctx, "BCDF-9999")
		isNotFound(t, "unknown user code", err)
		return nil
	})
	// A user code names one authorization at a time.
	same := deviceAuthorization(2, now().Add(10*time.Minute))
	same.UserCode = d.UserCode
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertDeviceAuthorization(ctx, same) }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second authorization under one user code: %v", err)
	}
	polled := now()
	write(t, s, func(tx store.Tx) error {
		_, err := tx.UpdateDeviceAuthorization(ctx, d.DeviceCodeHash, func(x *store.DeviceAuthorization) error {
			x.Status, x.SessionID, x.FamilyID, x.Interval, x.NextPollAt = store.DeviceApproved, "ses-0001", "family-1", 6, polled
			x.UserCode, x.ClientID = "XXXX-XXXX", "someone-else" // not stored: what the request was for does not change
			return nil
		})
		if err != nil {
			return err
		}
		_, err = tx.UpdateDeviceAuthorization(ctx, fmt.Sprintf("%064x", 99), func(*store.DeviceAuthorization) error { return nil })
		isNotFound(t, "update of an unknown device code", err)
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		got, err := tx.GetDeviceAuthorizationByUserCode(ctx, d.UserCode)
		want := d
		want.Status, want.SessionID, want.FamilyID, want.Interval, want.NextPollAt = store.DeviceApproved, "ses-0001", "family-1", 6, polled
		if err != nil || *got != want {
			t.Fatalf("after update = %+v, %v; want %+v", got, err, want)
		}
		return nil
	})
	// A failing closure changes nothing.
	boom := errors.New("boom")
	err := s.Write(ctx, func(tx store.Tx) error {
		_, err := tx.UpdateDeviceAuthorization(ctx, d.DeviceCodeHash, func(x *store.DeviceAuthorization) error {
			x.Status = store.DeviceRedeemed
			return boom
		})
		return err
	})
	if !errors.Is(err, boom) {
		t.Fatalf("closure error = %v", err)
	}
	read(t, s, func(tx store.Tx) error {
		if got, _ := tx.GetDeviceAuthorizationByUserCode(ctx, d.UserCode); got.Status != store.DeviceApproved {
			t.Fatalf("a failed update was stored: %+v", got)
		}
		return nil
	})
}

// race runs fn from racers goroutines at once and counts those that won.
func race(t *testing.T, s store.Store, racers int, fn func(tx store.Tx) (bool, error)) int32 {
	t.Helper()
	var won atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var w bool
			err := s.Write(ctx, func(tx store.Tx) error {
				var err error
				w, err = fn(tx)
				return err
			})
			if err != nil {
				t.Error(err)
			} else if w {
				won.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	return won.Load()
}

func testDeviceRedeemRace(t *testing.T, s store.Store) {
	d := deviceAuthorization(1, now().Add(10*time.Minute))
	d.Status, d.SessionID = store.DeviceApproved, "ses-0001"
	write(t, s, func(tx store.Tx) error { return tx.InsertDeviceAuthorization(ctx, d) })
	won := race(t, s, 10, func(tx store.Tx) (bool, error) {
		redeemed := false
		_, err := tx.UpdateDeviceAuthorization(ctx, d.DeviceCodeHash, func(x *store.DeviceAuthorization) error {
			if x.Status == store.DeviceApproved {
				x.Status, redeemed = store.DeviceRedeemed, true
			}
			return nil
		})
		return redeemed, err
	})
	if won != 1 {
		t.Fatalf("an approved device code was redeemed %d times", won)
	}
}

func testCodeRace(t *testing.T, s store.Store) {
	c := store.AuthorizationCode{CodeHash: fmt.Sprintf("%064x", 1), ClientID: "client-0001", RedirectURI: "http://127.0.0.1:4242/oauth/callback",
		CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", SessionID: "ses-0001", ExpiresAt: now().Add(5 * time.Minute), CreatedAt: now()}
	write(t, s, func(tx store.Tx) error { return tx.InsertAuthorizationCode(ctx, c) })
	used := now()
	won := race(t, s, 10, func(tx store.Tx) (bool, error) {
		first := false
		_, err := tx.UpdateAuthorizationCode(ctx, c.CodeHash, func(x *store.AuthorizationCode) error {
			if x.UsedAt.IsZero() {
				x.UsedAt, x.FamilyID, first = used, "family-1", true
			}
			return nil
		})
		return first, err
	})
	if won != 1 {
		t.Fatalf("one code was used %d times", won)
	}
	write(t, s, func(tx store.Tx) error {
		got, err := tx.UpdateAuthorizationCode(ctx, c.CodeHash, func(*store.AuthorizationCode) error { return nil })
		want := c
		want.UsedAt, want.FamilyID = used, "family-1"
		if err != nil || *got != want {
			t.Fatalf("code after use = %+v, %v; want %+v", got, err, want)
		}
		_, err = tx.UpdateAuthorizationCode(ctx, fmt.Sprintf("%064x", 2), func(*store.AuthorizationCode) error { return nil })
		isNotFound(t, "unknown code", err)
		return nil
	})
}

func oauthToken(n int, kind, family string, expires time.Time) store.OAuthToken {
	return store.OAuthToken{Hash: fmt.Sprintf("%064x", n), Kind: kind, ClientID: "client-0001", SessionID: "ses-0001", FamilyID: family,
		ExpiresAt: expires, CreatedAt: now()}
}

func testOAuthTokens(t *testing.T, s store.Store) {
	tokens := []store.OAuthToken{
		oauthToken(1, store.TokenAccess, "family-1", now().Add(time.Hour)),
		oauthToken(2, store.TokenRefresh, "family-1", now().Add(8*time.Hour)),
		oauthToken(3, store.TokenAccess, "family-2", now().Add(time.Hour)),
	}
	earlier := now().Add(-time.Minute)
	tokens[1].RevokedAt = earlier
	write(t, s, func(tx store.Tx) error {
		for _, o := range tokens {
			if err := tx.InsertOAuthToken(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		for _, want := range tokens {
			got, err := tx.GetOAuthToken(ctx, want.Hash)
			if err != nil || *got != want {
				t.Fatalf("GetOAuthToken = %+v, %v; want %+v", got, err, want)
			}
		}
		_, err := tx.GetOAuthToken(ctx, fmt.Sprintf("%064x", 9))
		isNotFound(t, "unknown token", err)
		return nil
	})
	if err := s.Write(ctx, func(tx store.Tx) error { return tx.InsertOAuthToken(ctx, tokens[0]) }); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("token stored twice: %v", err)
	}
	revokedAt := now()
	write(t, s, func(tx store.Tx) error {
		n, err := tx.RevokeOAuthTokenFamily(ctx, "family-1", revokedAt)
		if err != nil || n != 1 {
			t.Fatalf("RevokeOAuthTokenFamily = %d, %v; want 1 (one was revoked before)", n, err)
		}
		return nil
	})
	read(t, s, func(tx store.Tx) error {
		for hash, want := range map[string]time.Time{tokens[0].Hash: revokedAt, tokens[1].Hash: earlier, tokens[2].Hash: {}} {
			got, err := tx.GetOAuthToken(ctx, hash)
			if err != nil || !got.RevokedAt.Equal(want) {
				t.Fatalf("token %s revoked at %v, %v; want %v", hash[60:], got.RevokedAt, err, want)
			}
		}
		return nil
	})
}

func testRefreshRace(t *testing.T, s store.Store) {
	r := oauthToken(1, store.TokenRefresh, "family-1", now().Add(time.Hour))
	write(t, s, func(tx store.Tx) error { return tx.InsertOAuthToken(ctx, r) })
	won := race(t, s, 10, func(tx store.Tx) (bool, error) {
		rotated := false
		_, err := tx.UpdateOAuthToken(ctx, r.Hash, func(o *store.OAuthToken) error {
			if o.UsedAt.IsZero() {
				o.UsedAt, rotated = now(), true
			}
			return nil
		})
		return rotated, err
	})
	if won != 1 {
		t.Fatalf("one refresh token was rotated %d times", won)
	}
}

func testPortalExpiry(t *testing.T, s store.Store) {
	cut := now()
	old, live := cut.Add(-time.Millisecond), cut.Add(time.Hour)
	write(t, s, func(tx store.Tx) error {
		oldClient, liveClient := oauthClient(1), oauthClient(2)
		oldClient.SecretExpiresAt, liveClient.SecretExpiresAt = old, live
		codes := []store.AuthorizationCode{{CodeHash: "c1", ExpiresAt: old}, {CodeHash: "c2", ExpiresAt: live}}
		for _, err := range []error{
			tx.InsertSignInSession(ctx, signInSession(1, dirID(1), old)),
			tx.InsertSignInSession(ctx, signInSession(2, dirID(1), live)),
			tx.InsertOAuthClient(ctx, oldClient),
			tx.InsertOAuthClient(ctx, liveClient),
			tx.InsertDeviceAuthorization(ctx, deviceAuthorization(1, old)),
			tx.InsertDeviceAuthorization(ctx, deviceAuthorization(2, live)),
			tx.InsertAuthorizationCode(ctx, codes[0]),
			tx.InsertAuthorizationCode(ctx, codes[1]),
			tx.InsertOAuthToken(ctx, oauthToken(1, store.TokenAccess, "f", old)),
			tx.InsertOAuthToken(ctx, oauthToken(2, store.TokenRefresh, "f", live)),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	var n int
	write(t, s, func(tx store.Tx) error {
		var err error
		n, err = tx.DeletePortalExpired(ctx, cut)
		return err
	})
	if n != 5 {
		t.Fatalf("DeletePortalExpired removed %d rows; want 5", n)
	}
	read(t, s, func(tx store.Tx) error {
		_, err := tx.GetSignInSession(ctx, "ses-0001")
		isNotFound(t, "expired session", err)
		_, err = tx.GetOAuthClient(ctx, "client-0001")
		isNotFound(t, "expired client", err)
		_, err = tx.GetDeviceAuthorizationByUserCode(ctx, "BCDF-0001")
		isNotFound(t, "expired device authorization", err)
		_, err = tx.GetOAuthToken(ctx, fmt.Sprintf("%064x", 1))
		isNotFound(t, "expired token", err)
		for what, err := range map[string]error{
			"live session": func() error { _, err := tx.GetSignInSession(ctx, "ses-0002"); return err }(),
			"live client":  func() error { _, err := tx.GetOAuthClient(ctx, "client-0002"); return err }(),
			"live device":  func() error { _, err := tx.GetDeviceAuthorizationByUserCode(ctx, "BCDF-0002"); return err }(),
			"live token":   func() error { _, err := tx.GetOAuthToken(ctx, fmt.Sprintf("%064x", 2)); return err }(),
		} {
			if err != nil {
				t.Fatalf("%s swept: %v", what, err)
			}
		}
		return nil
	})
	write(t, s, func(tx store.Tx) error {
		if _, err := tx.UpdateAuthorizationCode(ctx, "c1", func(*store.AuthorizationCode) error { return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired code kept: %v", err)
		}
		_, err := tx.UpdateAuthorizationCode(ctx, "c2", func(*store.AuthorizationCode) error { return nil })
		return err
	})
}
