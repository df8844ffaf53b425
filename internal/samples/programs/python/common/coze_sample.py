"""Shared plumbing of the Coze OAuth sample programs (Python 3.7+, standard library only).

main.py holds the OAuth steps of one client type; this file holds what every type needs: reading
coze_oauth_config.json, calling the API host with JSON, the English/Chinese pages, and a small local web server.
It is a sample for trying an OAuth app out on your own machine, not a library for production use.
"""

import datetime
import html
import http.client
import json
import os
import secrets
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG_FILE = "coze_oauth_config.json"
CLIENT_TYPES = ("web", "pkce", "device", "jwt")
HTTP_TIMEOUT = 20  # seconds per request to the API host


def fail(message):
    """Prints one line on stderr and exits 1: for mistakes found at start-up."""
    sys.stderr.write("error: " + message + "\n")
    sys.exit(1)


# ---------------------------------------------------------------------------------------------------------------
# Configuration

def load_config(client_type):
    """Reads coze_oauth_config.json next to this file and checks the keys the client type needs."""
    path = os.path.join(HERE, CONFIG_FILE)
    try:
        with open(path, "r", encoding="utf-8") as f:
            cfg = json.load(f)
    except FileNotFoundError:
        fail("%s not found: put the file downloaded with the sample next to main.py (%s)" % (CONFIG_FILE, path))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        fail("%s cannot be read: %s" % (CONFIG_FILE, e))
    if not isinstance(cfg, dict):
        fail("%s must hold a JSON object" % CONFIG_FILE)

    if "client_type" not in cfg:
        fail('%s: "client_type" is missing (this program is the "%s" sample)' % (CONFIG_FILE, client_type))
    if cfg["client_type"] != client_type:
        fail('%s: client_type is %s, but this program is the "%s" sample; download the sample for this app again'
             % (CONFIG_FILE, json.dumps(cfg["client_type"]), client_type))
    need = ["client_id", "coze_api_base"]
    if client_type == "web":
        need.append("client_secret")
    if client_type == "jwt":
        need += ["private_key", "public_key_id"]
    for key in need:
        value = cfg.get(key)
        if not isinstance(value, str) or not value.strip():
            fail('%s: "%s" is missing or empty' % (CONFIG_FILE, key))
    www = cfg.get("coze_www_base")
    if www is not None and not isinstance(www, str):
        fail('%s: "coze_www_base" must be a string' % CONFIG_FILE)
    for key in ("coze_api_base", "coze_www_base"):
        value = cfg.get(key) or ""
        if value:
            parts = urllib.parse.urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                fail('%s: "%s" must be an http(s) URL, got %s' % (CONFIG_FILE, key, json.dumps(value)))
    cfg["coze_api_base"] = cfg["coze_api_base"].rstrip("/")
    cfg["coze_www_base"] = (www or cfg["coze_api_base"]).rstrip("/")
    return cfg


def port():
    """The local port: env PORT, default 8080."""
    raw = os.environ.get("PORT", "").strip() or "8080"
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= 65535:
        fail("PORT must be a number from 1 to 65535, got %r" % raw)
    return value


def local_url():
    return "http://127.0.0.1:%d" % port()


def redirect_uri():
    """The redirect URI registered for the app (the download registers http://127.0.0.1:8080/callback)."""
    return local_url() + "/callback"


def random_string(nbytes=32):
    return secrets.token_urlsafe(nbytes)


# ---------------------------------------------------------------------------------------------------------------
# Calling the API host

class SampleError(Exception):
    """A failed call: the server's error_message (or the transport error), its error code and the X-Tt-Logid."""

    def __init__(self, message, code="", logid=""):
        Exception.__init__(self, message)
        self.message = message
        self.code = code
        self.logid = logid


def call_api(method, url, body=None, bearer=None):
    """Sends a JSON request and returns (object, logid). bearer=None sends no Authorization header.

    OAuth errors come as {"error", "error_code", "error_message"} with a 4xx status; other Coze APIs answer
    {"code": non-zero, "msg"}. Both become a SampleError carrying the server's message and log ID.
    """
    data = None
    req = urllib.request.Request(url, method=method)
    req.add_header("Accept", "application/json")
    if body is not None:
        data = json.dumps(body).encode("utf-8")
        req.add_header("Content-Type", "application/json")
    if bearer is not None:
        req.add_header("Authorization", "Bearer " + bearer)
    try:
        with urllib.request.urlopen(req, data=data, timeout=HTTP_TIMEOUT) as resp:
            status, headers, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, headers, raw = e.code, e.headers, e.read()
    except urllib.error.URLError as e:
        raise SampleError("cannot reach %s: %s" % (url, e.reason))
    except (OSError, ValueError, http.client.HTTPException) as e:
        raise SampleError("cannot reach %s: %s" % (url, str(e) or type(e).__name__))
    logid = (headers.get("X-Tt-Logid") or "") if headers is not None else ""
    try:
        payload = json.loads(raw.decode("utf-8"))
    except ValueError:
        payload = None
    if not isinstance(payload, dict):
        raise SampleError("%s answered HTTP %d without a JSON object" % (url, status), "", logid)
    code = payload.get("error_code") or payload.get("error") or ""
    envelope_code = payload.get("code")
    if status >= 400 or code or envelope_code not in (None, 0):
        message = (payload.get("error_message") or payload.get("error_description") or payload.get("msg")
                   or code or "HTTP %d" % status)
        if not code and envelope_code not in (None, 0):
            code = str(envelope_code)
        if not logid and isinstance(payload.get("detail"), dict):
            logid = payload["detail"].get("logid") or ""
        raise SampleError(str(message), str(code), logid)
    return payload, logid


def token_url(cfg):
    return cfg["coze_api_base"] + "/api/permission/oauth2/token"


def request_token(cfg, body, bearer=None):
    """POSTs to the token endpoint and checks the answer has an access token and an expiry."""
    token, logid = call_api("POST", token_url(cfg), body, bearer)
    if not isinstance(token.get("access_token"), str) or not isinstance(token.get("expires_in"), int):
        raise SampleError("the token endpoint answered without access_token/expires_in", "", logid)
    return token


def users_me(cfg, access_token):
    """GET /v1/users/me with the new access token: {user_id, user_name, nick_name, ...}."""
    payload, _ = call_api("GET", cfg["coze_api_base"] + "/v1/users/me", bearer=access_token)
    data = payload.get("data")
    return data if isinstance(data, dict) else {}


# ---------------------------------------------------------------------------------------------------------------
# Texts (English and Simplified Chinese) and pages

TEXTS = {
    "en": {
        "title": "Coze OAuth sample",
        "type.web": "Web application (client secret)",
        "type.pkce": "Single-page or native app (PKCE)",
        "type.device": "Device or command line (device code)",
        "type.jwt": "Service application (JWT)",
        "intro.web": "Sign in on the authorization server, approve the app, and this program exchanges the code "
                     "with its client secret.",
        "intro.pkce": "Sign in on the authorization server, approve the app, and this program exchanges the code "
                      "with its PKCE code verifier (no secret).",
        "intro.device": "This program asks for a device code; you open the link, enter the code and approve, "
                        "while it polls for the token.",
        "intro.jwt": "This program signs a JWT with the app's private key and exchanges it for an access token. "
                     "No user signs in.",
        "client_type": "Client type",
        "client_id": "Client ID",
        "api_base": "API base",
        "redirect_uri": "Redirect URI",
        "start": "Start authorization",
        "get_token": "Get token",
        "success": "Authorization Successful",
        "issued": "Token issued",
        "failed": "Authorization failed",
        "user_name": "User name",
        "user_id": "User ID",
        "access_token": "Access token",
        "expires_at": "Expires at",
        "refresh_token": "Refresh token",
        "refresh": "Refresh token",
        "new_token": "New token",
        "copy": "Copy",
        "copied": "Copied",
        "logid": "Log ID",
        "error_code": "Error code",
        "colon": ": ",
        "again": "Start again",
        "trial": "The token is for trying the app out only. Keep it secret; it lives only in this program's memory.",
        "device.open": "Open this link, sign in and enter the code:",
        "device.code": "User code",
        "device.waiting": "Waiting for you to approve on the verification page…",
        "device.slow_down": "The server asked to poll more slowly: now every %s s.",
        "device.expired": "The device code expired before it was approved. Start again.",
        "device.denied": "The request was refused on the verification page.",
        "device.done": "Approved. Loading the result…",
        "device.failed": "Polling stopped: %s",
        "device.lost": "This program lost contact with the page; reload it.",
        "err.state": "The state parameter does not match the request this program started (start again).",
        "err.no_code": "The callback carries neither a code nor an error.",
        "err.nothing": "Nothing to show yet.",
    },
    "zh": {
        "title": "扣子 OAuth 示例",
        "type.web": "Web 后端应用（客户端密钥）",
        "type.pkce": "单页或移动应用（PKCE）",
        "type.device": "设备或命令行（设备码）",
        "type.jwt": "服务类应用（JWT）",
        "intro.web": "在授权服务器登录并同意授权后，本程序用客户端密钥换取令牌。",
        "intro.pkce": "在授权服务器登录并同意授权后，本程序用 PKCE code verifier 换取令牌（无需密钥）。",
        "intro.device": "本程序申请设备码；请打开链接、输入用户码并同意授权，程序会轮询获取令牌。",
        "intro.jwt": "本程序用应用私钥签名 JWT 并换取访问令牌，无需用户登录。",
        "client_type": "客户端类型",
        "client_id": "客户端 ID",
        "api_base": "API 地址",
        "redirect_uri": "重定向 URL",
        "start": "开始授权",
        "get_token": "获取令牌",
        "success": "授权成功",
        "issued": "令牌已签发",
        "failed": "授权失败",
        "user_name": "用户昵称",
        "user_id": "用户 ID",
        "access_token": "访问令牌",
        "expires_at": "过期时间",
        "refresh_token": "刷新令牌",
        "refresh": "刷新令牌",
        "new_token": "获取新令牌",
        "copy": "复制",
        "copied": "已复制",
        "logid": "日志 ID",
        "error_code": "错误码",
        "colon": "：",
        "again": "重新开始",
        "trial": "该令牌仅供体验使用，请勿泄露；它只保存在本程序的内存中。",
        "device.open": "打开以下链接，登录并输入用户码：",
        "device.code": "用户码",
        "device.waiting": "等待你在验证页面上同意授权…",
        "device.slow_down": "服务器要求降低轮询频率：现在每 %s 秒一次。",
        "device.expired": "设备码在授权前已过期，请重新开始。",
        "device.denied": "授权请求在验证页面上被拒绝。",
        "device.done": "已同意授权，正在加载结果…",
        "device.failed": "已停止轮询：%s",
        "device.lost": "本程序与页面失去联系，请刷新页面。",
        "err.state": "state 参数与本程序发起的请求不一致（请重新开始）。",
        "err.no_code": "回调中既没有 code 也没有 error。",
        "err.nothing": "暂无结果。",
    },
}


def pick_lang(accept_language):
    """zh when the highest-weighted language of Accept-Language is Chinese, else en."""
    best, best_q = "en", -1.0
    for part in (accept_language or "").split(","):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower()
        if not tag:
            continue
        q = 1.0
        for bit in bits[1:]:
            bit = bit.strip()
            if bit.startswith("q="):
                try:
                    q = float(bit[2:])
                except ValueError:
                    q = 0.0
        if q > best_q:
            best_q = q
            best = "zh" if tag == "zh" or tag.startswith("zh-") else "en"
    return best


def t(lang, key):
    return TEXTS.get(lang, TEXTS["en"]).get(key) or TEXTS["en"][key]


def esc(value):
    return html.escape("" if value is None else str(value), quote=True)


def format_expiry(expires_in):
    """expires_in is an absolute Unix time (seconds); shown as local time with its UTC offset."""
    try:
        when = datetime.datetime.fromtimestamp(int(expires_in), tz=datetime.timezone.utc).astimezone()
    except (OverflowError, OSError, ValueError, TypeError):
        return str(expires_in)
    offset = when.utcoffset() or datetime.timedelta(0)
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return "%s (UTC%s%02d:%02d)" % (when.strftime("%Y-%m-%d %H:%M:%S"), sign, minutes // 60, minutes % 60)


CSS = """
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,"PingFang SC","Microsoft YaHei",sans-serif;
 background:#f4f5f7;color:#1f2329}
main{max-width:760px;margin:40px auto;padding:28px 32px;background:#fff;border-radius:10px;
 box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{font-size:24px;margin:0 0 16px}
h1.ok{color:#127a3f}
h1.bad{color:#b42318}
.sub{color:#646a73;margin:0 0 20px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:8px 16px;margin:0 0 20px}
dt{color:#646a73}
dd{margin:0;min-width:0}
code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px;word-break:break-all}
.token{display:flex;gap:8px;align-items:flex-start}
.token code{flex:1;background:#f4f5f7;padding:4px 8px;border-radius:4px}
button,.button{display:inline-block;border:0;border-radius:6px;padding:9px 18px;font-family:inherit;font-size:15px;
 line-height:1.4;vertical-align:middle;cursor:pointer;background:#4d53e8;color:#fff;text-decoration:none}
button.small{padding:3px 10px;font-size:13px;background:#e4e6eb;color:#1f2329}
.button.plain{background:#e4e6eb;color:#1f2329}
form{display:inline;margin:0 8px 0 0}
.usercode{font-size:28px;letter-spacing:3px;font-weight:600}
.status{padding:10px 12px;background:#f4f5f7;border-radius:6px}
.error{padding:10px 12px;background:#fef3f2;border:1px solid #fecdca;border-radius:6px;color:#b42318}
.note{color:#646a73;font-size:13px;margin-top:24px}
"""

COPY_JS = """
document.querySelectorAll('button[data-copy]').forEach(function (b) {
  b.addEventListener('click', function () {
    var text = document.getElementById(b.getAttribute('data-copy')).textContent;
    var done = function () { var old = b.textContent; b.textContent = b.getAttribute('data-done');
      setTimeout(function () { b.textContent = old; }, 1500); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var area = document.createElement('textarea'); area.value = text; document.body.appendChild(area);
      area.select(); try { document.execCommand('copy'); done(); } catch (e) {} document.body.removeChild(area);
    }
  });
});
"""


def page(lang, body, script=""):
    """A whole self-contained HTML page (inline CSS, optional inline script)."""
    out = ["<!doctype html>\n<html lang=\"", "zh-CN" if lang == "zh" else "en", "\"><head><meta charset=\"utf-8\">",
           "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">",
           "<title>", esc(t(lang, "title")), "</title><style>", CSS, "</style></head><body><main>", body,
           "<p class=\"note\">", esc(t(lang, "trial")), "</p></main>"]
    if script:
        out += ["<script>", script, "</script>"]
    out.append("</body></html>\n")
    return "".join(out)


def button_form(action, element_id, label):
    return ('<form method="post" action="%s"><button type="submit" id="%s">%s</button></form>'
            % (esc(action), esc(element_id), esc(label)))


def start_page(lang, cfg, button_label, extra_rows=()):
    ctype = cfg["client_type"]
    rows = [(t(lang, "client_type"), '<code id="client-type">%s</code> &middot; %s'
             % (esc(ctype), esc(t(lang, "type." + ctype)))),
            (t(lang, "client_id"), '<code id="client-id">%s</code>' % esc(cfg["client_id"])),
            (t(lang, "api_base"), "<code>%s</code>" % esc(cfg["coze_api_base"]))]
    rows += list(extra_rows)
    body = ("<h1>%s</h1><p class=\"sub\">%s</p>%s%s"
            % (esc(t(lang, "title")), esc(t(lang, "intro." + ctype)), definition_list(rows),
               button_form("/start", "start", button_label)))
    return page(lang, body)


def definition_list(rows):
    return "<dl>" + "".join("<dt>%s</dt><dd>%s</dd>" % (esc(k), v) for k, v in rows) + "</dl>"


def token_cell(lang, element_id, value):
    return ('<div class="token"><code id="%s">%s</code><button type="button" class="small" data-copy="%s" '
            'data-done="%s">%s</button></div>' % (element_id, esc(value), element_id, esc(t(lang, "copied")),
                                                   esc(t(lang, "copy"))))


def success_page(lang, token, user):
    """The page after a user authorized (web, pkce, device): user info on top, then the tokens."""
    rows = [(t(lang, "user_name"), '<span id="user-name">%s</span>'
             % esc(user.get("nick_name") or user.get("user_name") or "")),
            (t(lang, "user_id"), '<code id="user-id">%s</code>' % esc(user.get("user_id") or "")),
            (t(lang, "access_token"), token_cell(lang, "access-token", token.get("access_token"))),
            (t(lang, "expires_at"), '<span id="expires-at">%s</span>' % esc(format_expiry(token.get("expires_in")))),
            (t(lang, "refresh_token"), token_cell(lang, "refresh-token", token.get("refresh_token") or ""))]
    body = ('<h1 class="ok">%s</h1>%s%s<a class="button plain" href="/">%s</a>'
            % (esc(t(lang, "success")), definition_list(rows), button_form("/refresh", "refresh", t(lang, "refresh")),
               esc(t(lang, "again"))))
    return page(lang, body, COPY_JS)


def jwt_token_page(lang, token):
    rows = [(t(lang, "access_token"), token_cell(lang, "access-token", token.get("access_token"))),
            (t(lang, "expires_at"), '<span id="expires-at">%s</span>' % esc(format_expiry(token.get("expires_in"))))]
    body = ('<h1 class="ok">%s</h1>%s%s' % (esc(t(lang, "issued")), definition_list(rows),
                                             button_form("/start", "new-token", t(lang, "new_token"))))
    return page(lang, body, COPY_JS)


def error_page(lang, message, logid="", status_line="", code=""):
    """The failure page: the server's error_message (or the transport error) and the log ID when there is one."""
    body = ['<h1 class="bad">%s</h1>' % esc(t(lang, "failed"))]
    if status_line:
        body.append('<p class="status" id="status">%s</p>' % esc(status_line))
    body.append('<p class="error" id="error-message">%s</p>' % esc(message))
    if code:
        body.append('<p>%s<code id="error-code">%s</code></p>' % (esc(t(lang, "error_code") + t(lang, "colon")), esc(code)))
    if logid:
        body.append('<p>%s<code id="logid">%s</code></p>' % (esc(t(lang, "logid") + t(lang, "colon")), esc(logid)))
    body.append('<p><a class="button" href="/">%s</a></p>' % esc(t(lang, "again")))
    return page(lang, "".join(body))


# ---------------------------------------------------------------------------------------------------------------
# The local web server

class Request(object):
    def __init__(self, method, path, query, form, lang):
        self.method = method
        self.path = path
        self.query = query
        self.form = form
        self.lang = lang

    def arg(self, name):
        values = self.query.get(name) or self.form.get(name) or [""]
        return values[0]


class Response(object):
    def __init__(self, status=200, body="", content_type="text/html; charset=utf-8", location=""):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.location = location


def html_response(body, status=200):
    return Response(status, body)


def json_response(obj):
    return Response(200, json.dumps(obj), "application/json; charset=utf-8")


def redirect(location):
    return Response(303, "", location=location)


def failure(req, err, status_line=""):
    """An error page for a SampleError: 502 when the server said no or could not be reached."""
    return Response(502, error_page(req.lang, err.message, err.logid, status_line, err.code))


class Store(object):
    """What the program remembers, in memory only: the last result and the pending authorization requests."""

    def __init__(self):
        self.lock = threading.Lock()
        self.result = None  # ("token", token, user) or ("error", SampleError)
        self.pending = {}  # state -> (created, extra)

    def set_result(self, result):
        with self.lock:
            self.result = result

    def get_result(self):
        with self.lock:
            return self.result

    def add_state(self, state, extra=None):
        with self.lock:
            now = time.time()
            # Forget requests older than 30 minutes so that an open tab cannot grow this forever.
            self.pending = {k: v for k, v in self.pending.items() if now - v[0] < 1800}
            self.pending[state] = (now, extra)

    def take_state(self, state):
        """Returns (found, extra) and forgets the state: each state is good for one callback."""
        with self.lock:
            entry = self.pending.pop(state, None) if state else None
        return (entry is not None), (entry[1] if entry else None)


def serve(routes):
    """Serves routes {(method, path): handler(Request) -> Response} on 127.0.0.1:PORT until Ctrl+C."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "CozeOAuthSample/1.0"

        def handle_any(self, method):
            parts = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(parts.query)
            form = {}
            if method == "POST":
                try:
                    length = int(self.headers.get("Content-Length") or 0)
                except ValueError:
                    length = 0
                raw = self.rfile.read(min(max(length, 0), 65536)) if length > 0 else b""
                form = urllib.parse.parse_qs(raw.decode("utf-8", "replace"))
            req = Request(method, parts.path, query, form, pick_lang(self.headers.get("Accept-Language")))
            handler = routes.get((method, parts.path))
            if handler is None:
                known = any(path == parts.path for (_, path) in routes)
                resp = Response(405 if known else 404, "method not allowed\n" if known else "not found\n",
                                "text/plain; charset=utf-8")
            else:
                try:
                    resp = handler(req)
                except SampleError as e:
                    resp = failure(req, e)
                except Exception as e:  # a bug in the sample: say so on the page, keep serving
                    sys.stderr.write("internal error on %s %s: %r\n" % (method, parts.path, e))
                    resp = Response(500, error_page(req.lang, "internal error in the sample program: %r" % e))
            body = resp.body.encode("utf-8")
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            if resp.location:
                self.send_header("Location", resp.location)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            self.handle_any("GET")

        def do_POST(self):
            self.handle_any("POST")

        def log_message(self, fmt, *args):
            # Only method and path: query strings carry authorization codes and state.
            sys.stderr.write("%s %s\n" % (self.command, urllib.parse.urlsplit(self.path).path))

    try:
        server = ThreadingHTTPServer(("127.0.0.1", port()), Handler)
    except OSError as e:
        fail("cannot listen on 127.0.0.1:%d: %s (set PORT to another port)" % (port(), e.strerror or e))
    print("Open %s" % local_url(), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
