package oauth

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/cozeauth/cozeauth/internal/ratelimit"
)

// Limits bounds request rates per client IP and per client (client_id) on
// the token and device authorization endpoints (issue 11.8). In memory:
// each replica limits on its own.
type Limits struct {
	// TokenIP and TokenClient limit POST …/token (all three paths).
	TokenIP, TokenClient *ratelimit.Limiter
	// DeviceIP and DeviceClient limit POST …/device/code (both paths).
	DeviceIP, DeviceClient *ratelimit.Limiter
	// ClientIP resolves the client address (default: the peer address).
	ClientIP func(*http.Request) string
}

// NewLimits builds the limiters; an off Limit limits nothing.
func NewLimits(tokenIP, tokenClient, deviceIP, deviceClient ratelimit.Limit, clientIP func(*http.Request) string) Limits {
	return Limits{TokenIP: ratelimit.New(tokenIP), TokenClient: ratelimit.New(tokenClient),
		DeviceIP: ratelimit.New(deviceIP), DeviceClient: ratelimit.New(deviceClient), ClientIP: clientIP}
}

func (l Limits) ip(r *http.Request) string {
	if l.ClientIP != nil {
		return l.ClientIP(r)
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// errRateLimited answers a request over a limit: HTTP 429 with Retry-After
// (RFC 6585 §4) in the WIRE.md §3.5 shape. The code is temporarily_unavailable
// (RFC 6749 §4.1.2.1: "temporary overloading"; §5.2 has no code for it): an
// error every SDK surfaces to its caller at once (Go AuthError, Python
// CozeAPIError with the message, JS a 429 APIError), never one they retry
// forever. A device poll over the limit gets slow_down instead (RFC 8628
// §3.5), which the SDKs' pollers answer by polling 5 s less often.
func errRateLimited(code string, wait time.Duration) *Error {
	secs := max(int64((wait+time.Second-1)/time.Second), 1)
	return &Error{Code: code, Status: http.StatusTooManyRequests, retryAfter: secs,
		Description: "too many requests from this client; retry after " + strconv.FormatInt(secs, 10) + " s"}
}

// allow applies ip and client limits; client may be "" (not named).
func allow(now time.Time, ipl, cl *ratelimit.Limiter, ip, client string) (bool, time.Duration) {
	if ok, wait := ipl.Allow(now, ip); !ok {
		return false, wait
	}
	if client == "" {
		return true, 0
	}
	return cl.Allow(now, client)
}

// tokenClient names the client of a token request for its limit: client_id,
// or for a JWT grant without one (Python, JS) the unverified iss.
func tokenClient(req *tokenRequest) string {
	if req.ClientID != "" || req.GrantType != GrantTypeJWTBearer || req.bearer == "" {
		return req.ClientID
	}
	var c jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(req.bearer, &c); err != nil {
		return ""
	}
	return c.Issuer
}
