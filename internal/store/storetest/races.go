package storetest

import (
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// RunGrantRaces checks grants that lose a race between their read and their
// write, for stores whose code exchange, device redemption and refresh read
// their row without a lock and call issue (or redeem) outside any
// transaction, then write only if the row is as read (sqlstore). The
// callback plays the competing request itself, so it always lands between
// the read and the write; the grant must then decide as the loser of a
// concurrent race does. (For a store that calls issue inside its
// transaction these tests would deadlock: there issue must not call the
// store.)
func RunGrantRaces(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	runTests(t, open, []subTest{
		{"CodeExchangedMeanwhile", testCodeExchangedMeanwhile},
		{"CodeGrantDeletedMeanwhile", testCodeGrantDeletedMeanwhile},
		{"RefreshRotatedMeanwhile", testRefreshRotatedMeanwhile},
		{"RefreshRetriedMeanwhile", testRefreshRetriedMeanwhile},
		{"RefreshRevokedMeanwhile", testRefreshRevokedMeanwhile},
		{"DeviceRedeemedMeanwhile", testDeviceRedeemedMeanwhile},
		{"DevicePolledMeanwhile", testDevicePolledMeanwhile},
	})
}

// meanwhile returns a callback that runs compete on its first call only,
// then returns its answer; calls counts its calls.
func meanwhile[A, G, R any](calls *int, compete func(), answer func() (R, error)) func(A, G) (R, error) {
	return func(A, G) (R, error) {
		if *calls++; *calls == 1 {
			compete()
		}
		return answer()
	}
}

// An exchange whose code another exchange consumed meanwhile is reuse: the
// other's tokens are revoked, its own never stored.
func testCodeExchangedMeanwhile(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	c := f.newAuthCode(o)
	checkErr(t, "CreateAuthCode", f.s.CreateAuthCode(f.ctx, c), nil)
	first := []store.OAuthToken{f.newToken(o, store.TokenAccess, "fam-first"), f.newToken(o, store.TokenRefresh, "fam-first")}
	late := []store.OAuthToken{f.newToken(o, store.TokenAccess, "fam-late"), f.newToken(o, store.TokenRefresh, "fam-late")}
	calls := 0
	_, err := f.s.ExchangeAuthCode(f.ctx, c.Hash, f.tick(), meanwhile[store.AuthCode, store.Grant](&calls, func() {
		_, err := f.s.ExchangeAuthCode(f.ctx, c.Hash, f.tick(), issueTokens(first...))
		checkErr(t, "the competing exchange", err, nil)
	}, func() ([]store.OAuthToken, error) { return late, nil }))
	checkErr(t, "ExchangeAuthCode after another consumed the code", err, store.ErrUsed)
	if calls != 1 {
		t.Errorf("issue called %d times, want 1", calls)
	}
	f.checkRevoked("the competing exchange's tokens", true, first...)
	f.checkStored("the late exchange's tokens", false, late...)
}

// An exchange whose grant was deleted meanwhile (and the code with it)
// stores nothing.
func testCodeGrantDeletedMeanwhile(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	c := f.newAuthCode(o)
	checkErr(t, "CreateAuthCode", f.s.CreateAuthCode(f.ctx, c), nil)
	late := []store.OAuthToken{f.newToken(o, store.TokenAccess, "fam-late")}
	calls := 0
	_, err := f.s.ExchangeAuthCode(f.ctx, c.Hash, f.tick(), meanwhile[store.AuthCode, store.Grant](&calls, func() {
		checkErr(t, "DeleteGrant", f.s.DeleteGrant(f.ctx, o.grant.ID, f.tick()), nil)
	}, func() ([]store.OAuthToken, error) { return late, nil }))
	checkErr(t, "ExchangeAuthCode after its grant was deleted", err, store.ErrNotFound)
	f.checkStored("the late exchange's tokens", false, late...)
}

// A rotation whose token another rotation used meanwhile is reuse: the
// family goes, the other's new pair included; its own pair is never stored.
func testRefreshRotatedMeanwhile(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	a0, r0 := f.tokenPair(o)
	a1, r1 := f.newToken(o, store.TokenAccess, r0.FamilyID), f.newToken(o, store.TokenRefresh, r0.FamilyID)
	a2, r2 := f.newToken(o, store.TokenAccess, r0.FamilyID), f.newToken(o, store.TokenRefresh, r0.FamilyID)
	calls := 0
	err := f.rotate(r0.Hash, f.tick(), meanwhile[store.OAuthToken, store.Grant](&calls, func() {
		checkErr(t, "the competing rotation", f.rotate(r0.Hash, f.tick(), rotateTo(a1, r1)), nil)
	}, func() (store.Rotation, error) { return store.Rotation{Access: a2, Refresh: r2}, nil }))
	checkErr(t, "RotateRefresh after another rotation", err, store.ErrUsed)
	if calls != 1 {
		t.Errorf("issue called %d times, want 1", calls)
	}
	f.checkRevoked("the family", true, a0, r0, a1, r1)
	f.checkStored("the late rotation's pair", false, a2, r2)
}

// Within the retry window, the same rotation arriving twice gets the first
// one's answer back, and nothing of its own is stored.
func testRefreshRetriedMeanwhile(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	_, r0 := f.tokenPair(o)
	a1, r1 := f.newToken(o, store.TokenAccess, r0.FamilyID), f.newToken(o, store.TokenRefresh, r0.FamilyID)
	a2, r2 := f.newToken(o, store.TokenAccess, r0.FamilyID), f.newToken(o, store.TokenRefresh, r0.FamilyID)
	const window = 10
	now := f.tick()
	calls := 0
	retry, err := f.s.RotateRefresh(f.ctx, r0.Hash, now, window, meanwhile[store.OAuthToken, store.Grant](&calls, func() {
		_, err := f.s.RotateRefresh(f.ctx, r0.Hash, now, window, func(store.OAuthToken, store.Grant) (store.Rotation, error) {
			return store.Rotation{Access: a1, Refresh: r1, Retry: "sealed-first"}, nil
		})
		checkErr(t, "the competing rotation", err, nil)
	}, func() (store.Rotation, error) {
		return store.Rotation{Access: a2, Refresh: r2, Retry: "sealed-late"}, nil
	}))
	if checkErr(t, "RotateRefresh retried meanwhile", err, nil) && retry != "sealed-first" {
		t.Errorf("retry = %q, want the first rotation's", retry)
	}
	f.checkRevoked("the first rotation's pair", false, a1, r1)
	f.checkStored("the late rotation's pair", false, a2, r2)
}

// A rotation whose family was revoked meanwhile is refused.
func testRefreshRevokedMeanwhile(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	_, r0 := f.tokenPair(o)
	a1, r1 := f.newToken(o, store.TokenAccess, r0.FamilyID), f.newToken(o, store.TokenRefresh, r0.FamilyID)
	calls := 0
	err := f.rotate(r0.Hash, f.tick(), meanwhile[store.OAuthToken, store.Grant](&calls, func() {
		checkErr(t, "RevokeTokenFamily", f.s.RevokeTokenFamily(f.ctx, r0.FamilyID, f.tick()), nil)
	}, func() (store.Rotation, error) { return store.Rotation{Access: a1, Refresh: r1}, nil }))
	checkErr(t, "RotateRefresh after its family was revoked", err, store.ErrRevoked)
	f.checkStored("the late rotation's pair", false, a1, r1)
}

// approvedDevice stores a device code and approves it.
func (f *fixture) approvedDevice(o oauthSetup) store.DeviceCode {
	f.t.Helper()
	d := f.newDeviceCode(o, "RACE-"+store.NewID()[15:])
	checkErr(f.t, "CreateDeviceCode", f.s.CreateDeviceCode(f.ctx, d), nil)
	checkErr(f.t, "ApproveDeviceCode", f.s.ApproveDeviceCode(f.ctx, d.UserCode, o.grant.ID, f.tick()), nil)
	return d
}

// A poll whose code another poll redeemed meanwhile gets ErrUsed, not a
// redeemed record its caller would take for its own redemption.
func testDeviceRedeemedMeanwhile(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	d := f.approvedDevice(o)
	first := []store.OAuthToken{f.newToken(o, store.TokenAccess, "fam-first"), f.newToken(o, store.TokenRefresh, "fam-first")}
	late := []store.OAuthToken{f.newToken(o, store.TokenAccess, "fam-late"), f.newToken(o, store.TokenRefresh, "fam-late")}
	calls := 0
	_, _, err := f.s.PollDevice(f.ctx, d.DeviceHash, f.tick(), meanwhile[store.DeviceCode, store.Grant](&calls, func() {
		got, _, err := f.s.PollDevice(f.ctx, d.DeviceHash, f.tick(), func(store.DeviceCode, store.Grant) ([]store.OAuthToken, error) {
			return first, nil
		})
		if checkErr(t, "the competing poll", err, nil) && got.Status != store.DeviceRedeemed {
			t.Errorf("the competing poll: status %s, want redeemed", got.Status)
		}
	}, func() ([]store.OAuthToken, error) { return late, nil }))
	checkErr(t, "PollDevice after another poll redeemed the code", err, store.ErrUsed)
	f.checkStored("the competing poll's tokens", true, first...)
	f.checkStored("the late poll's tokens", false, late...)
}

// A poll whose code another poll only polled meanwhile redeems it (redeem is
// called again; its last tokens are stored) and reports that poll's time as
// the previous one.
func testDevicePolledMeanwhile(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	d := f.approvedDevice(o)
	discarded := []store.OAuthToken{f.newToken(o, store.TokenAccess, "fam-1")}
	kept := []store.OAuthToken{f.newToken(o, store.TokenAccess, "fam-2")}
	polledAt := f.tick()
	calls := 0
	got, prev, err := f.s.PollDevice(f.ctx, d.DeviceHash, f.tick(), meanwhile[store.DeviceCode, store.Grant](&calls, func() {
		_, _, err := f.s.PollDevice(f.ctx, d.DeviceHash, polledAt, nil)
		checkErr(t, "the competing poll", err, nil)
	}, func() ([]store.OAuthToken, error) {
		if calls == 1 {
			return discarded, nil
		}
		return kept, nil
	}))
	if checkErr(t, "PollDevice after another poll", err, nil) && (got.Status != store.DeviceRedeemed || prev != polledAt) {
		t.Errorf("PollDevice after another poll: status %s, prev %d; want redeemed, %d", got.Status, prev, polledAt)
	}
	if calls != 2 {
		t.Errorf("redeem called %d times, want 2", calls)
	}
	f.checkStored("the first redeem's tokens", false, discarded...)
	f.checkStored("the last redeem's tokens", true, kept...)
}
