"""Coze OAuth sample: a service application (JWT bearer grant). Run: python3 main.py

Get token -> this program signs a short-lived RS256 JWT with the app's private key (header kid = public_key_id;
claims iss = client_id, aud = the API host, iat, exp, a random jti) and POSTs
{"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "duration_seconds": 900} to the token endpoint with
the JWT as "Authorization: Bearer <jwt>". No user signs in and there is no refresh token: get a new one instead.
"""

import base64
import json
import secrets
import time
import urllib.parse

import coze_sample as cs
import rs256

CFG = cs.load_config("jwt")
STORE = cs.Store()

try:  # fail at start, not at the first click, when the key is unusable
    rs256.sign(CFG["private_key"], b"check")
except rs256.InvalidKeyError as e:
    cs.fail("coze_oauth_config.json: private_key cannot be used: %s" % e)


def b64url(data):
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def signed_jwt():
    now = int(time.time())
    header = {"alg": "RS256", "typ": "JWT", "kid": CFG["public_key_id"]}
    claims = {
        "iss": CFG["client_id"],
        "aud": urllib.parse.urlsplit(CFG["coze_api_base"]).netloc,  # host[:port] of the API base
        "iat": now,
        "exp": now + 600,
        "jti": secrets.token_hex(16),
    }
    signing_input = b64url(json.dumps(header, separators=(",", ":")).encode("utf-8")) + "." + \
        b64url(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    return signing_input + "." + b64url(rs256.sign(CFG["private_key"], signing_input.encode("ascii")))


def home(req):
    return cs.html_response(cs.start_page(req.lang, CFG, cs.t(req.lang, "get_token"),
                                          [("kid", "<code>%s</code>" % cs.esc(CFG["public_key_id"]))]))


def get_token(req):
    token = cs.request_token(CFG, {
        "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
        "duration_seconds": 900,
    }, bearer=signed_jwt())
    STORE.set_result(("token", token, None))
    return cs.redirect("/result")


def result(req):
    current = STORE.get_result()
    if not current:
        return cs.redirect("/")
    return cs.html_response(cs.jwt_token_page(req.lang, current[1]))


if __name__ == "__main__":
    cs.serve({
        ("GET", "/"): home,
        ("POST", "/start"): get_token,
        ("GET", "/result"): result,
    })
