package client

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// defaultJWTTTL is the lifetime asked for when JWTRequest.TTL is 0 (the SDKs'
// default, WIRE.md §4.3).
const defaultJWTTTL = 900 * time.Second

// JWTRequest is a JWT bearer grant request (WIRE.md §3.2, §4): the app signs
// a JWT with one of its registered RSA keys and presents it as the bearer
// credential.
type JWTRequest struct {
	// ClientID is the app's client ID: the JWT iss (and the body client_id).
	ClientID string
	// KeyID is the registered public key's ID: the JWT header kid.
	KeyID string
	// PrivateKeyPEM is the RSA private key, PKCS#8 ("BEGIN PRIVATE KEY") or
	// PKCS#1 ("BEGIN RSA PRIVATE KEY").
	PrivateKeyPEM string
	// Audience is the JWT aud; empty uses the base URL's host[:port], as
	// coze-go does.
	Audience string
	// TTL is the access token lifetime asked for (duration_seconds, whole
	// seconds); 0 asks for 900 s. It is also the JWT's exp − iat.
	TTL time.Duration
	// Scope narrows the token; nil sends none.
	Scope *JWTScope
	// SessionName, when non-empty, isolates a sub-identity of the app.
	SessionName string
	// AccountID uses the account/{id}/token path; it wins over EnterpriseID.
	AccountID string
	// EnterpriseID uses the enterprise_id/{id}/token path.
	EnterpriseID string
}

// JWTScope is the scope object of the JWT grant (WIRE.md §4.4).
type JWTScope struct {
	AccountPermission   *JWTAccountPermission   `json:"account_permission"`
	AttributeConstraint *JWTAttributeConstraint `json:"attribute_constraint,omitempty"`
}

// JWTAccountPermission limits the token to these permission points.
type JWTAccountPermission struct {
	PermissionList []string `json:"permission_list"`
}

// JWTAttributeConstraint limits Connector.botChat to some bots.
type JWTAttributeConstraint struct {
	ConnectorBotChatAttribute *JWTBotChatAttribute `json:"connector_bot_chat_attribute,omitempty"`
}

// JWTBotChatAttribute lists the bots Connector.botChat may reach.
type JWTBotChatAttribute struct {
	BotIDList []string `json:"bot_id_list"`
}

// BuildBotChat is the scope of coze-go's BuildBotChat: permissions (default
// Connector.botChat) limited to botIDs when there are any.
func BuildBotChat(botIDs, permissions []string) *JWTScope {
	if len(permissions) == 0 {
		permissions = []string{"Connector.botChat"}
	}
	s := &JWTScope{AccountPermission: &JWTAccountPermission{PermissionList: permissions}}
	if len(botIDs) > 0 {
		s.AttributeConstraint = &JWTAttributeConstraint{ConnectorBotChatAttribute: &JWTBotChatAttribute{BotIDList: botIDs}}
	}
	return s
}

type jwtBody struct {
	ClientID        string    `json:"client_id,omitempty"`
	GrantType       string    `json:"grant_type"`
	DurationSeconds int64     `json:"duration_seconds,omitempty"`
	Scope           *JWTScope `json:"scope,omitempty"`
}

// JWTToken signs a JWT for req (RS256, kid, iss, aud, iat, exp, random jti)
// and exchanges it for an access token at /api/permission/oauth2/token, or
// account/{id}/token, or enterprise_id/{id}/token. JWT tokens have no refresh
// token: sign a new JWT when the token expires.
func (c *Client) JWTToken(ctx context.Context, req JWTRequest) (*OAuthToken, error) {
	assertion, err := c.SignJWT(req)
	if err != nil {
		return nil, err
	}
	return c.JWTTokenWithAssertion(ctx, assertion, req)
}

// JWTTokenWithAssertion exchanges an already signed JWT; req gives the path,
// client_id, duration and scope (its key fields are not used).
func (c *Client) JWTTokenWithAssertion(ctx context.Context, assertion string, req JWTRequest) (*OAuthToken, error) {
	path := pathToken
	switch {
	case req.AccountID != "":
		path = "/api/permission/oauth2/account/" + url.PathEscape(req.AccountID) + "/token"
	case req.EnterpriseID != "":
		path = "/api/permission/oauth2/enterprise_id/" + url.PathEscape(req.EnterpriseID) + "/token"
	}
	return c.postToken(ctx, path, assertion, jwtBody{
		ClientID: req.ClientID, GrantType: GrantTypeJWTBearer, DurationSeconds: ttlSeconds(req.TTL), Scope: req.Scope,
	})
}

func ttlSeconds(d time.Duration) int64 {
	if d <= 0 {
		d = defaultJWTTTL
	}
	return int64(d / time.Second)
}

// SignJWT returns the signed JWT JWTToken would send for req.
func (c *Client) SignJWT(req JWTRequest) (string, error) {
	if req.ClientID == "" || req.KeyID == "" {
		return "", errors.New("coze oauth: JWTRequest needs ClientID and KeyID")
	}
	key, err := ParseRSAPrivateKey(req.PrivateKeyPEM)
	if err != nil {
		return "", err
	}
	aud := req.Audience
	if aud == "" {
		u, err := url.Parse(c.baseURL)
		if err != nil || u.Host == "" {
			return "", fmt.Errorf("coze oauth: cannot derive the JWT aud from base URL %q; set JWTRequest.Audience", c.baseURL)
		}
		aud = u.Host
	}
	jti, err := randomHex(16)
	if err != nil {
		return "", err
	}
	now := time.Now().Unix()
	claims := jwt.MapClaims{
		"iss": req.ClientID,
		"aud": aud,
		"iat": now,
		"exp": now + ttlSeconds(req.TTL),
		"jti": jti,
	}
	if req.SessionName != "" {
		claims["session_name"] = req.SessionName
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	t.Header["kid"] = req.KeyID
	s, err := t.SignedString(key)
	if err != nil {
		return "", fmt.Errorf("coze oauth: signing the JWT: %w", err)
	}
	return s, nil
}

// ParseRSAPrivateKey parses a PEM RSA private key, PKCS#8 or PKCS#1.
func ParseRSAPrivateKey(pemText string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("coze oauth: the private key is not PEM")
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("coze oauth: parsing the private key (want PKCS#8 or PKCS#1 RSA): %w", err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("coze oauth: the private key is %T, want RSA", k)
	}
	return rk, nil
}
