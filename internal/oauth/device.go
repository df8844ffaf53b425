package oauth

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"

	"github.com/cozeauth/cozeauth/internal/credential"
	"github.com/cozeauth/cozeauth/internal/store"
)

// VerificationPath is the device verification page (RFC 8628 §3.3) on the
// public URL; it accepts ?user_code= as a pre-fill.
const VerificationPath = "/device"

// userCodeAlphabet has no vowels (no words) and no look-alikes (0/O, 1/I);
// it is URL-safe, as WIRE.md §3.4 requires. 8 characters from 20 letters and
// digits, rate-limited by expiry, follow RFC 8628 §6.1.
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ23456789"

func newUserCode() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	out := make([]byte, 0, 9)
	for i, c := range b {
		if i == 4 {
			out = append(out, '-')
		}
		out = append(out, userCodeAlphabet[int(c)%len(userCodeAlphabet)])
	}
	return string(out)
}

// NormalizeUserCode accepts what people type: lower case, spaces, no dash.
func NormalizeUserCode(s string) string {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s)))
	if len(s) == 8 {
		return s[:4] + "-" + s[4:]
	}
	return s
}

type deviceResponse struct {
	DeviceCode      string `json:"device_code"`
	UserCode        string `json:"user_code"`
	VerificationURI string `json:"verification_uri"`
	VerificationURL string `json:"verification_url"`
	ExpiresIn       int64  `json:"expires_in"`
	Interval        int64  `json:"interval"`
}

// DeviceCode serves POST /api/permission/oauth2[/workspace_id/{id}]/device/code
// (WIRE.md §3.3).
func (s *Service) DeviceCode(w http.ResponseWriter, r *http.Request) {
	var body struct {
		ClientID string `json:"client_id"`
	}
	if err := decodeBody(r, &body); err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	if ok, wait := allow(s.Now(), s.Limits.DeviceIP, s.Limits.DeviceClient, s.Limits.ip(r), body.ClientID); !ok {
		WriteError(w, r, s.Log, errRateLimited("temporarily_unavailable", wait))
		return
	}
	resp, err := s.startDevice(r.Context(), body.ClientID, r.PathValue("workspace_id"))
	if err != nil {
		WriteError(w, r, s.Log, err)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

func (s *Service) startDevice(ctx context.Context, clientID, workspaceID string) (*deviceResponse, error) {
	if clientID == "" {
		return nil, ErrInvalidRequest("client_id is required")
	}
	app, ok, err := s.appByClientID(ctx, clientID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrInvalidClient("unknown client_id %q", clientID)
	}
	if !app.Active {
		return nil, ErrInvalidClient("this app is deactivated")
	}
	if app.ClientType != store.ClientTerminal {
		return nil, ErrUnauthorizedClient("a %s app cannot use the device flow", app.ClientType)
	}
	if workspaceID != "" {
		if _, err := s.Store.GetWorkspace(ctx, workspaceID); errors.Is(err, store.ErrNotFound) {
			return nil, ErrInvalidRequest("workspace %q not found", workspaceID)
		} else if err != nil {
			return nil, err
		}
	}
	now := s.Now()
	device := credential.NewOrderedToken(prefixDevice)
	d := store.DeviceCode{DeviceHash: credential.Hash(device), AppID: app.ID, WorkspaceID: workspaceID,
		Status: store.DevicePending, ExpiresAt: now.Add(s.Lifetimes.DeviceCode).Unix(), CreatedAt: now.Unix()}
	for attempt := 0; ; attempt++ {
		d.UserCode = newUserCode()
		err := s.Store.CreateDeviceCode(ctx, d)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrAlreadyExists) || attempt == 4 {
			return nil, err
		}
	}
	uri := s.PublicURL + VerificationPath
	return &deviceResponse{DeviceCode: device, UserCode: d.UserCode, VerificationURI: uri,
		VerificationURL: uri + "?user_code=" + d.UserCode, ExpiresIn: d.ExpiresAt,
		Interval: int64(s.Lifetimes.DevicePollInterval.Seconds())}, nil
}

// DevicePrompt is a pending device authorization a user is about to decide.
type DevicePrompt struct {
	UserCode    string
	App         store.App
	WorkspaceID string
}

// ErrUnknownUserCode: no pending device authorization has that user code.
var ErrUnknownUserCode = errors.New("unknown, expired or already used code")

// LookupDevice finds the pending device authorization of a user code.
func (s *Service) LookupDevice(ctx context.Context, userCode string) (*DevicePrompt, error) {
	d, err := s.Store.GetDeviceCodeByUserCode(ctx, NormalizeUserCode(userCode), s.Now().Unix())
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrUnknownUserCode
	}
	if err != nil {
		return nil, err
	}
	if d.Status != store.DevicePending {
		return nil, ErrUnknownUserCode
	}
	app, ok, err := s.appByID(ctx, d.AppID)
	if err != nil {
		return nil, err
	}
	if !ok || !app.Active {
		return nil, ErrUnknownUserCode
	}
	return &DevicePrompt{UserCode: d.UserCode, App: app, WorkspaceID: d.WorkspaceID}, nil
}

// ApproveDevice records the user's consent for a device authorization.
func (s *Service) ApproveDevice(ctx context.Context, p *DevicePrompt, c Choice) error {
	g, err := s.grantFor(ctx, p.App, p.WorkspaceID, c)
	if err != nil {
		return err
	}
	err = s.Store.ApproveDeviceCode(ctx, p.UserCode, g.ID, s.Now().Unix())
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUsed) {
		return ErrUnknownUserCode
	}
	return err
}

// DenyDevice records that the user refused a device authorization.
func (s *Service) DenyDevice(ctx context.Context, p *DevicePrompt) error {
	err := s.Store.DenyDeviceCode(ctx, p.UserCode, s.Now().Unix())
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrUsed) {
		return ErrUnknownUserCode
	}
	return err
}
