"""Coze OAuth sample: a device or command-line app (device authorization grant, RFC 8628). Run: python3 main.py

Start -> POST {coze_api_base}/api/permission/oauth2/device/code gives a device code, a user code and a verification
URI. The page shows the link and the code; you open it (on any device), sign in, enter the code and approve. Meanwhile
this program polls the token endpoint with the device code every `interval` seconds (authorization_pending: keep
waiting; slow_down: wait 5 s longer; expired_token / access_denied: stop), then calls GET /v1/users/me.
"""

import threading
import time
import urllib.parse

import coze_sample as cs

CFG = cs.load_config("device")
STORE = cs.Store()


class Flow(object):
    """The device flow in progress: one at a time; pressing Start again abandons the previous one."""

    def __init__(self):
        self.lock = threading.Lock()
        self.generation = 0
        self.device = None  # the device code response
        self.state = "idle"  # idle | pending | done | failed
        self.message = ("device.waiting", None)  # text key and its argument
        self.error = None  # the SampleError when failed

    def begin(self, device):
        with self.lock:
            self.generation += 1
            self.device = device
            self.state, self.message, self.error = "pending", ("device.waiting", None), None
            return self.generation

    def update(self, generation, state, message, error=None):
        """Records progress; False when this poller was replaced by a newer Start."""
        with self.lock:
            if generation != self.generation:
                return False
            self.state, self.message, self.error = state, message, error
            return True

    def current(self, generation):
        with self.lock:
            return generation == self.generation

    def snapshot(self):
        with self.lock:
            return self.device, self.state, self.message, self.error


FLOW = Flow()


def poll(generation, device):
    """Polls the token endpoint until the user approves or refuses, or the code expires (RFC 8628 section 3.5)."""
    interval = device.get("interval")
    interval = interval if isinstance(interval, int) and interval > 0 else 5
    expires_at = device.get("expires_in")
    # expires_in is an absolute Unix time on cozeauth; a small number would be a lifetime in seconds.
    if not isinstance(expires_at, int) or expires_at < 10 ** 9:
        expires_at = time.time() + (expires_at if isinstance(expires_at, int) and expires_at > 0 else 600)
    while FLOW.current(generation):
        try:
            token = cs.request_token(CFG, {
                "client_id": CFG["client_id"],
                "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
                "device_code": device["device_code"],
            })
        except cs.SampleError as e:
            if e.code == "authorization_pending":
                if not FLOW.update(generation, "pending", ("device.waiting", None)):
                    return
            elif e.code == "slow_down":
                interval += 5
                if not FLOW.update(generation, "pending", ("device.slow_down", interval)):
                    return
            elif e.code == "expired_token":
                FLOW.update(generation, "failed", ("device.expired", None), e)
                return
            elif e.code == "access_denied":
                FLOW.update(generation, "failed", ("device.denied", None), e)
                return
            else:
                FLOW.update(generation, "failed", ("device.failed", e.message), e)
                return
        else:
            try:
                user = cs.users_me(CFG, token["access_token"])
            except cs.SampleError as e:
                FLOW.update(generation, "failed", ("device.failed", e.message), e)
                return
            if FLOW.current(generation):
                STORE.set_result(("token", token, user))
                FLOW.update(generation, "done", ("device.done", None))
            return
        if time.time() > expires_at + 60:  # the server should have said expired_token by now
            FLOW.update(generation, "failed", ("device.expired", None), cs.SampleError("expired_token"))
            return
        time.sleep(interval)


def message_text(lang, message):
    key, arg = message
    text = cs.t(lang, key)
    return text % arg if arg is not None else text


def home(req):
    return cs.html_response(cs.start_page(req.lang, CFG, cs.t(req.lang, "start")))


def start(req):
    device, _ = cs.call_api("POST", CFG["coze_api_base"] + "/api/permission/oauth2/device/code",
                            {"client_id": CFG["client_id"]})
    for key in ("device_code", "user_code", "verification_uri"):
        if not isinstance(device.get(key), str) or not device[key]:
            raise cs.SampleError("the device code response has no %s" % key)
    generation = FLOW.begin(device)
    threading.Thread(target=poll, args=(generation, device), daemon=True).start()
    return cs.redirect("/device")


DEVICE_JS = """
(function () {
  var status = document.getElementById('status');
  function tick() {
    fetch('/status', {cache: 'no-store'}).then(function (r) { return r.json(); }).then(function (s) {
      status.textContent = s.message;
      if (s.state === 'done' || s.state === 'failed') { location.href = '/result'; return; }
      setTimeout(tick, 1000);
    }, function () { status.textContent = status.getAttribute('data-lost'); setTimeout(tick, 3000); });
  }
  setTimeout(tick, 1000);
})();
"""


def device_page(req):
    device, state, message, _ = FLOW.snapshot()
    if device is None:
        return cs.redirect("/")
    if state in ("done", "failed"):
        return cs.redirect("/result")
    lang = req.lang
    link = device["verification_uri"] + "?" + urllib.parse.urlencode({"user_code": device["user_code"]})
    body = ('<h1>%s</h1><p>%s</p><p><a id="verification-uri" href="%s" target="_blank" rel="noopener">%s</a></p>'
            '<p>%s</p><p class="usercode" id="user-code">%s</p>'
            '<p class="status" id="status" role="status" data-lost="%s">%s</p>'
            % (cs.esc(cs.t(lang, "title")), cs.esc(cs.t(lang, "device.open")), cs.esc(link), cs.esc(link),
               cs.esc(cs.t(lang, "device.code") + cs.t(lang, "colon")), cs.esc(device["user_code"]), cs.esc(cs.t(lang, "device.lost")),
               cs.esc(message_text(lang, message))))
    return cs.html_response(cs.page(lang, body, DEVICE_JS))


def status(req):
    _, state, message, _ = FLOW.snapshot()
    return cs.json_response({"state": state, "message": message_text(req.lang, message)})


def refresh(req):
    result = STORE.get_result()
    if not result or result[0] != "token":
        return cs.redirect("/")
    token = cs.request_token(CFG, {
        "client_id": CFG["client_id"],
        "grant_type": "refresh_token",
        "refresh_token": result[1].get("refresh_token", ""),
    })
    STORE.set_result(("token", token, cs.users_me(CFG, token["access_token"])))
    return cs.redirect("/result")


def result(req):
    _, state, message, error = FLOW.snapshot()
    if state == "failed":
        return cs.failure(req, error, message_text(req.lang, message))
    current = STORE.get_result()
    if state != "done" or not current:
        return cs.redirect("/device" if state == "pending" else "/")
    return cs.html_response(cs.success_page(req.lang, current[1], current[2]))


if __name__ == "__main__":
    cs.serve({
        ("GET", "/"): home,
        ("POST", "/start"): start,
        ("GET", "/device"): device_page,
        ("GET", "/status"): status,
        ("POST", "/refresh"): refresh,
        ("GET", "/result"): result,
    })
