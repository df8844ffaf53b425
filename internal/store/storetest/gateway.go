package storetest

import (
	"errors"
	"testing"

	"github.com/cozeauth/cozeauth/internal/store"
)

// runGateway covers what the gateway stores: resources registered and
// removed by an upstream, and users' sealed upstream tokens.
func runGateway(t *testing.T, open func(t *testing.T) store.Store) {
	runTests(t, open, []subTest{
		{"DeleteResource", testDeleteResource},
		{"UpstreamTokens", testUpstreamTokens},
	})
}

func testDeleteResource(t *testing.T, f *fixture) {
	u := f.user("alice")
	ws := f.workspace("W", u.Account(), u.ID)
	r := store.Resource{Type: "bot", ID: "b1", WorkspaceID: ws.ID, CreatedAt: f.tick()}
	if err := f.s.CreateResource(f.ctx, r); err != nil {
		t.Fatal(err)
	}
	rev := f.revision()
	if err := f.s.DeleteResource(f.ctx, "bot", "b1"); err != nil {
		t.Fatalf("DeleteResource: %v", err)
	}
	if f.revision() <= rev {
		t.Error("DeleteResource did not advance the revision")
	}
	if _, err := f.s.GetResource(f.ctx, "bot", "b1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetResource after delete: %v, want ErrNotFound", err)
	}
	if err := f.s.DeleteResource(f.ctx, "bot", "b1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeleteResource: %v, want ErrNotFound", err)
	}
}

func testUpstreamTokens(t *testing.T, f *fixture) {
	u := f.user("alice")
	if _, err := f.s.GetUpstreamToken(f.ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetUpstreamToken before any: %v, want ErrNotFound", err)
	}
	if err := f.s.PutUpstreamToken(f.ctx, "no-such-user", "sealed", f.tick()); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PutUpstreamToken for an unknown user: %v, want ErrNotFound", err)
	}
	for _, sealed := range []string{"v1:first", "v1:second"} {
		rev := f.revision()
		if err := f.s.PutUpstreamToken(f.ctx, u.ID, sealed, f.tick()); err != nil {
			t.Fatalf("PutUpstreamToken(%s): %v", sealed, err)
		}
		if f.revision() <= rev {
			t.Errorf("PutUpstreamToken(%s) did not advance the revision", sealed)
		}
		got, err := f.s.GetUpstreamToken(f.ctx, u.ID)
		if err != nil || got != sealed {
			t.Errorf("GetUpstreamToken = %q, %v; want %q", got, err, sealed)
		}
	}
	if err := f.s.DeleteUpstreamToken(f.ctx, u.ID); err != nil {
		t.Fatalf("DeleteUpstreamToken: %v", err)
	}
	if _, err := f.s.GetUpstreamToken(f.ctx, u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUpstreamToken after delete: %v, want ErrNotFound", err)
	}
}
