"""Coze OAuth sample: a web application (authorization code + client secret). Run: python3 main.py

Start -> the browser goes to {coze_www_base}/api/permission/oauth2/authorize; after sign-in and consent the server
redirects to http://127.0.0.1:PORT/callback?code=...&state=...; this program exchanges the code for tokens with its
client secret (Authorization: Bearer <client_secret>), calls GET /v1/users/me, and can refresh the token.
"""

import urllib.parse

import coze_sample as cs

CFG = cs.load_config("web")
STORE = cs.Store()


def home(req):
    return cs.html_response(cs.start_page(req.lang, CFG, cs.t(req.lang, "start"),
                                          [(cs.t(req.lang, "redirect_uri"), "<code>%s</code>"
                                            % cs.esc(cs.redirect_uri()))]))


def start(req):
    state = cs.random_string()
    STORE.add_state(state)
    query = urllib.parse.urlencode([
        ("response_type", "code"),
        ("client_id", CFG["client_id"]),
        ("redirect_uri", cs.redirect_uri()),
        ("state", state),
    ])
    return cs.redirect(CFG["coze_www_base"] + "/api/permission/oauth2/authorize?" + query)


def callback(req):
    found, _ = STORE.take_state(req.arg("state"))
    if not found:
        raise cs.SampleError(cs.t(req.lang, "err.state"))
    if req.arg("error"):
        # Denied consent (or another refusal): the server says why in error_description.
        raise cs.SampleError(req.arg("error_description") or req.arg("error_message") or req.arg("error"),
                             req.arg("error"), req.arg("logid"))
    code = req.arg("code")
    if not code:
        raise cs.SampleError(cs.t(req.lang, "err.no_code"))
    token = cs.request_token(CFG, {
        "client_id": CFG["client_id"],
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": cs.redirect_uri(),
    }, bearer=CFG["client_secret"])
    STORE.set_result(("token", token, cs.users_me(CFG, token["access_token"])))
    return cs.redirect("/result")  # a reload of /result cannot replay the one-time code


def refresh(req):
    result = STORE.get_result()
    if not result or result[0] != "token":
        return cs.redirect("/")
    token = cs.request_token(CFG, {
        "client_id": CFG["client_id"],
        "grant_type": "refresh_token",
        "refresh_token": result[1].get("refresh_token", ""),
    }, bearer=CFG["client_secret"])
    STORE.set_result(("token", token, cs.users_me(CFG, token["access_token"])))
    return cs.redirect("/result")


def result(req):
    current = STORE.get_result()
    if not current:
        return cs.redirect("/")
    return cs.html_response(cs.success_page(req.lang, current[1], current[2]))


if __name__ == "__main__":
    cs.serve({
        ("GET", "/"): home,
        ("POST", "/start"): start,
        ("GET", "/callback"): callback,
        ("POST", "/refresh"): refresh,
        ("GET", "/result"): result,
    })
