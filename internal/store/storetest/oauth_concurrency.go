package storetest

import (
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// runOAuthConcurrency checks the single-use guarantees under concurrent use,
// as several server processes sharing one database would race.
func runOAuthConcurrency(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	runTests(t, open, []subTest{
		{"ExchangeAuthCode", testConcurrentExchangeAuthCode},
		{"RotateRefresh", testConcurrentRotateRefresh},
		{"CreateOAuthTokensForJTI", testConcurrentCreateTokensForJTI},
		{"RedeemDevice", testConcurrentRedeemDevice},
		{"PollDevice", testConcurrentPollDevice},
		{"PutGrant", testConcurrentPutGrant},
	})
}

// countResults runs fn on workers goroutines and counts successes and errors
// matching want; anything else is a test error.
func countResults(t *testing.T, what string, want error, fn func(i int) error) (ok, matched int64) {
	var okN, wantN atomic.Int64
	parallel(workers, func(i int) {
		err := fn(i)
		switch {
		case err == nil:
			okN.Add(1)
		case errors.Is(err, want):
			wantN.Add(1)
		default:
			t.Errorf("%s #%d: %v", what, i, err)
		}
	})
	return okN.Load(), wantN.Load()
}

// testConcurrentExchangeAuthCode: one exchange issues; the others are reuse,
// so they get ErrUsed and revoke what the winner issued.
func testConcurrentExchangeAuthCode(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	c := f.newAuthCode(o)
	checkErr(t, "CreateAuthCode", f.s.CreateAuthCode(f.ctx, c), nil)
	pairs := make([][2]store.OAuthToken, workers)
	for i := range pairs {
		fam := store.NewID()
		pairs[i] = [2]store.OAuthToken{f.newToken(o, store.TokenAccess, fam), f.newToken(o, store.TokenRefresh, fam)}
	}
	now := f.tick()
	ok, used := countResults(t, "ExchangeAuthCode", store.ErrUsed, func(i int) error {
		_, err := f.s.ExchangeAuthCode(f.ctx, c.Hash, now, issueTokens(pairs[i][0], pairs[i][1]))
		return err
	})
	if ok != 1 || used != workers-1 {
		t.Errorf("concurrent ExchangeAuthCode: %d successes, %d ErrUsed; want 1 and %d", ok, used, workers-1)
	}
	checkWinnerRevoked(t, f, "exchange", pairs)
}

func testConcurrentRotateRefresh(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	a0, r0 := f.tokenPair(o)
	pairs := make([][2]store.OAuthToken, workers)
	for i := range pairs {
		pairs[i] = [2]store.OAuthToken{f.newToken(o, store.TokenAccess, a0.FamilyID), f.newToken(o, store.TokenRefresh, a0.FamilyID)}
	}
	now := f.tick()
	ok, used := countResults(t, "RotateRefresh", store.ErrUsed, func(i int) error {
		return f.rotate(r0.Hash, now, rotateTo(pairs[i][0], pairs[i][1]))
	})
	if ok != 1 || used != workers-1 {
		t.Errorf("concurrent RotateRefresh: %d successes, %d ErrUsed; want 1 and %d", ok, used, workers-1)
	}
	// The losers count as reuse: the family, the winner's pair included, is revoked.
	checkWinnerRevoked(t, f, "rotation", pairs)
}

func testConcurrentCreateTokensForJTI(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	exp := f.tick() + 600
	toks := make([]store.OAuthToken, workers)
	for i := range toks {
		toks[i] = f.newToken(o, store.TokenAccess, store.NewID())
	}
	ok, dup := countResults(t, "CreateOAuthTokensForJTI", store.ErrAlreadyExists, func(i int) error {
		return f.s.CreateOAuthTokensForJTI(f.ctx, o.app.ID, "same-jti", exp, toks[i])
	})
	if ok != 1 || dup != workers-1 {
		t.Errorf("concurrent CreateOAuthTokensForJTI: %d successes, %d ErrAlreadyExists; want 1 and %d", ok, dup, workers-1)
	}
	stored := 0
	for _, tok := range toks {
		if _, err := f.s.GetOAuthTokenByHash(f.ctx, tok.Hash); err == nil {
			stored++
		} else if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetOAuthTokenByHash: %v", err)
		}
	}
	if stored != 1 {
		t.Errorf("%d tokens stored, want the winner's 1", stored)
	}
}

func testConcurrentRedeemDevice(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	d := f.newDeviceCode(o, "RACE-RACE")
	checkErr(t, "CreateDeviceCode", f.s.CreateDeviceCode(f.ctx, d), nil)
	checkErr(t, "ApproveDeviceCode", f.s.ApproveDeviceCode(f.ctx, d.UserCode, o.grant.ID, f.tick()), nil)
	// The fixture's clock is not for concurrent use: tokens and times first.
	toks := make([]store.OAuthToken, workers)
	for i := range toks {
		toks[i] = f.newToken(o, store.TokenAccess, store.NewID())
	}
	now := f.tick()
	var mu sync.Mutex
	var issued []store.OAuthToken
	redeemed := 0
	parallel(workers, func(i int) {
		tok := toks[i]
		got, _, err := f.s.PollDevice(f.ctx, d.DeviceHash, now, func(store.DeviceCode, store.Grant) ([]store.OAuthToken, error) {
			return []store.OAuthToken{tok}, nil
		})
		mu.Lock()
		defer mu.Unlock()
		issued = append(issued, tok)
		if errors.Is(err, store.ErrUsed) { // redeem was called, another poll redeemed first
			return
		}
		if err != nil {
			t.Errorf("PollDevice #%d: %v", i, err)
			return
		}
		if got.Status == store.DeviceRedeemed && redeemedBy(f, tok) {
			redeemed++
		}
	})
	stored := 0
	for _, tok := range issued {
		if redeemedBy(f, tok) {
			stored++
		}
	}
	if redeemed != 1 || stored != 1 {
		t.Errorf("concurrent redeeming polls: %d redeemed, %d token sets stored; want exactly 1 each", redeemed, stored)
	}
}

// redeemedBy reports whether tok is stored.
func redeemedBy(f *fixture, tok store.OAuthToken) bool {
	_, err := f.s.GetOAuthTokenByHash(f.ctx, tok.Hash)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.t.Errorf("GetOAuthTokenByHash: %v", err)
	}
	return err == nil
}

// testConcurrentPollDevice: each poll sees the time of exactly one earlier poll
// (or none), so the previous-poll times form a chain with no value seen twice.
func testConcurrentPollDevice(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	d := f.newDeviceCode(o, "POLL-POLL")
	checkErr(t, "CreateDeviceCode", f.s.CreateDeviceCode(f.ctx, d), nil)
	base := f.tick()
	prevs := make([]int64, workers)
	parallel(workers, func(i int) {
		_, prev, err := f.s.PollDevice(f.ctx, d.DeviceHash, base+int64(i)+1, nil)
		if err != nil {
			t.Errorf("PollDevice #%d: %v", i, err)
		}
		prevs[i] = prev
	})
	seen := map[int64]bool{}
	for i, p := range prevs {
		if seen[p] {
			t.Errorf("two polls both saw previous poll time %d (poll #%d)", p, i)
		}
		seen[p] = true
	}
	if !seen[0] {
		t.Errorf("no poll was the first one: %v", prevs)
	}
}

func testConcurrentPutGrant(t *testing.T, f *fixture) {
	o := f.oauthSetup()
	ids := make([]string, workers)
	parallel(workers, func(i int) {
		g, err := f.s.PutGrant(f.ctx, store.Grant{ID: store.NewID(), AppID: o.app.ID, Kind: store.GrantAppAuth, UserID: o.user.ID,
			Owner: o.user.Account(), Permissions: []string{"p" + strconv.Itoa(i)}, AllWorkspaces: true, CreatedAt: baseTime, UpdatedAt: baseTime})
		if err != nil {
			t.Errorf("PutGrant #%d: %v", i, err)
		}
		ids[i] = g.ID
	})
	for _, id := range ids[1:] {
		if id != ids[0] {
			t.Errorf("concurrent PutGrant of one key returned different grants: %v", ids)
			break
		}
	}
	list, err := f.s.ListGrants(f.ctx, store.GrantFilter{AppID: o.app.ID, Kind: store.GrantAppAuth})
	if checkErr(t, "ListGrants", err, nil) && len(list) != 1 {
		t.Errorf("%d grants for one key, want 1", len(list))
	}
}

// checkWinnerRevoked checks that of the pairs offered by concurrent
// single-use operations only the winner's was stored, and that the losers'
// reuse revoked it.
func checkWinnerRevoked(t *testing.T, f *fixture, what string, pairs [][2]store.OAuthToken) {
	t.Helper()
	stored := 0
	for _, p := range pairs {
		for _, tok := range p {
			got, err := f.s.GetOAuthTokenByHash(f.ctx, tok.Hash)
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				t.Fatalf("GetOAuthTokenByHash: %v", err)
			}
			stored++
			if got.RevokedAt == 0 && workers > 1 {
				t.Errorf("token %s of the winning %s survived the concurrent reuse", got.ID, what)
			}
		}
	}
	if stored != 2 {
		t.Errorf("%d tokens stored, want the winner's 2", stored)
	}
}
