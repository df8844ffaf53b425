package oauth

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

func TestLabelledSecretsAndKeys(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	web, _ := f.app(store.ClientWebBackend)
	svc, _ := f.app(store.ClientService)
	sec, secret, err := f.s.AddLabelledSecret(ctx, web.ID, "sample 2027-01-15")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.checkSecret(ctx, web, secret); err != nil {
		t.Errorf("the labelled secret does not authenticate: %v", err)
	}
	k, priv, err := f.s.GenerateLabelledKey(ctx, svc.ID, "sample 2027-01-15")
	if err != nil || !strings.HasPrefix(priv, "-----BEGIN PRIVATE KEY-----") {
		t.Fatalf("GenerateLabelledKey: %v", err)
	}
	secs, _ := f.db.ListAppSecrets(ctx, web.ID)
	keys, _ := f.db.ListAppKeys(ctx, svc.ID)
	// Both secrets have the fixed clock's creation time, so their order is by (random) ID.
	if i := slices.IndexFunc(secs, func(s store.AppSecret) bool { return s.ID == sec.ID }); i < 0 || len(secs) != 2 ||
		secs[i].Label != "sample 2027-01-15" || secs[1-i].Label != "" {
		t.Errorf("secrets = %+v", secs)
	}
	if len(keys) != 1 || keys[0].ID != k.ID || keys[0].Label != "sample 2027-01-15" {
		t.Errorf("keys = %+v", keys)
	}
	long := strings.Repeat("é", MaxLabel+1)
	if _, _, err := f.s.AddLabelledSecret(ctx, web.ID, long); !errors.Is(err, ErrInvalidApp) {
		t.Errorf("a %d-character label: %v", MaxLabel+1, err)
	}
	if _, _, err := f.s.GenerateLabelledKey(ctx, svc.ID, long); !errors.Is(err, ErrInvalidApp) {
		t.Errorf("a %d-character key label: %v", MaxLabel+1, err)
	}
}

func TestAddRedirectURI(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	web, _ := f.app(store.ClientWebBackend)
	pkce, _ := f.app(store.ClientSinglePageOrNative)
	dev, _ := f.app(store.ClientTerminal)
	tests := []struct {
		name      string
		app       store.App
		uri       string
		added     bool
		want      error
		wantAfter []string
	}{
		{"web adds", web, "http://127.0.0.1:8080/callback", true, nil, []string{"http://127.0.0.1:9/cb", "http://127.0.0.1:8080/callback"}},
		{"web again is a no-op", web, "http://127.0.0.1:8080/callback", false, nil, []string{"http://127.0.0.1:9/cb", "http://127.0.0.1:8080/callback"}},
		{"pkce adds", pkce, "http://127.0.0.1:9000/callback", true, nil, []string{"http://127.0.0.1:9/cb", "http://127.0.0.1:9000/callback"}},
		{"plain http elsewhere refused", pkce, "http://example.com/cb", false, ErrInvalidApp, []string{"http://127.0.0.1:9/cb", "http://127.0.0.1:9000/callback"}},
		{"device has none", dev, "http://127.0.0.1:8080/callback", false, ErrInvalidApp, nil},
		{"unknown app", store.App{ID: "nope"}, "http://127.0.0.1:8080/callback", false, store.ErrNotFound, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			added, err := f.s.AddRedirectURI(ctx, tc.app.ID, tc.uri)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) || added != tc.added {
				t.Fatalf("AddRedirectURI = %v, %v; want %v, %v", added, err, tc.added, tc.want)
			}
			if tc.app.ID == "nope" {
				return
			}
			got, _ := f.db.GetApp(ctx, tc.app.ID)
			if !slices.Equal(got.RedirectURIs, tc.wantAfter) {
				t.Errorf("redirect URIs = %v, want %v", got.RedirectURIs, tc.wantAfter)
			}
		})
	}
}
