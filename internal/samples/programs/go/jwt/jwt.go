//go:build ignore

package main

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// The jwt (service) client: an RS256 JWT signed with the app's private key, exchanged for an access token.
const clientType = "jwt"

func newFlow() flow { return &jwtFlow{} }

type jwtFlow struct {
	key *rsa.PrivateKey
	aud string
}

// check parses the PKCS#8 private key and derives the audience (host[:port] of coze_api_base).
func (f *jwtFlow) check(cfg *config) error {
	if cfg.PrivateKey == "" {
		return errMissing("private_key")
	}
	if cfg.PublicKeyID == "" {
		return errMissing("public_key_id")
	}
	block, _ := pem.Decode([]byte(cfg.PrivateKey))
	if block == nil || block.Type != "PRIVATE KEY" {
		return errors.New("private_key is not a PKCS#8 PEM block (-----BEGIN PRIVATE KEY-----)")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return errors.New("private_key: " + err.Error())
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return errors.New("private_key is not an RSA key")
	}
	u, err := url.Parse(cfg.APIBase)
	if err != nil || u.Host == "" {
		return errors.New("coze_api_base has no host")
	}
	f.key, f.aud = rk, u.Host
	return nil
}

func (f *jwtFlow) routes(a *app, mux *http.ServeMux) {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.renderStart(w, r, "getToken", "/token", "")
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		jwt, err := f.sign(a.cfg)
		if err != nil {
			a.fail(w, r, &apiError{Message: "signing the JWT: " + err.Error()})
			return
		}
		t, err := a.requestToken(jwt, map[string]interface{}{
			"grant_type":       "urn:ietf:params:oauth:grant-type:jwt-bearer",
			"duration_seconds": 900,
		})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		a.render(w, r, http.StatusOK, "jwt", page{Token: t})
	})
}

// sign makes the RS256 JWT of WIRE.md §4.2: kid = public_key_id, iss = client_id, aud = API host, exp = iat+600.
func (f *jwtFlow) sign(cfg config) (string, error) {
	now := time.Now().Unix()
	header, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": cfg.PublicKeyID})
	claims, _ := json.Marshal(map[string]interface{}{
		"iss": cfg.ClientID,
		"aud": f.aud,
		"iat": now,
		"exp": now + 600,
		"jti": randomHex(16),
	})
	enc := base64.RawURLEncoding
	signing := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	sum := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, f.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return signing + "." + enc.EncodeToString(sig), nil
}
