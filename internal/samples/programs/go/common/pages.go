//go:build ignore

package main

import (
	"fmt"
	"html/template"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// messages holds every text of the pages: English, then Simplified Chinese.
var messages = map[string][2]string{
	"title":         {"Coze OAuth sample", "Coze OAuth 示例"},
	"clientType":    {"Client type", "客户端类型"},
	"clientID":      {"Client ID", "客户端 ID"},
	"server":        {"Server", "服务地址"},
	"redirectURI":   {"Redirect URI", "重定向 URL"},
	"intro":         {"This sample runs the OAuth flow of your app against the server below.", "此示例程序使用你的应用，在下面的服务上运行 OAuth 授权流程。"},
	"start":         {"Start authorization", "开始授权"},
	"getToken":      {"Get token", "获取令牌"},
	"success":       {"Authorization Successful", "授权成功"},
	"userName":      {"User name", "用户名"},
	"userID":        {"User ID", "用户 ID"},
	"accessToken":   {"Access token", "访问令牌"},
	"expiresAt":     {"Expires at", "过期时间"},
	"refreshToken":  {"Refresh token", "刷新令牌"},
	"refresh":       {"Refresh token", "刷新令牌"},
	"copy":          {"Copy", "复制"},
	"copied":        {"Copied", "已复制"},
	"tokenIssued":   {"Token issued", "令牌已签发"},
	"newToken":      {"New token", "新令牌"},
	"failed":        {"Authorization failed", "授权失败"},
	"error":         {"Error", "错误"},
	"errorCode":     {"Error code", "错误码"},
	"logid":         {"Log ID", "日志 ID"},
	"back":          {"Back to start", "返回首页"},
	"tryOnly":       {"The token is for trying out only; keep it private.", "令牌仅供体验使用，请勿泄露。"},
	"deviceTitle":   {"Authorize this device", "授权此设备"},
	"deviceHelp":    {"Open the link below, sign in and confirm the user code.", "打开下面的链接，登录并确认用户码。"},
	"verifyURI":     {"Verification link", "验证链接"},
	"userCode":      {"User code", "用户码"},
	"pending":       {"Waiting for you to authorize in the browser…", "等待你在浏览器中完成授权…"},
	"slowDown":      {"The server asked to poll more slowly; now polling every %d s.", "服务器要求降低轮询频率，现在每 %d 秒轮询一次。"},
	"expired":       {"The user code has expired. Start again.", "用户码已过期，请重新开始。"},
	"denied":        {"Authorization was denied.", "授权已被拒绝。"},
	"done":          {"Authorized. Loading…", "已授权，正在加载…"},
	"stateMismatch": {"The state in the callback does not match the one this sample sent. Start again.", "回调中的 state 与本示例发出的不一致，请重新开始。"},
	"noCode":        {"The callback has no authorization code.", "回调中没有授权码。"},
	"noToken":       {"There is no token yet; start the authorization first.", "还没有令牌，请先开始授权。"},
	"unknownFlow":   {"This authorization request is unknown or finished. Start again.", "此授权请求不存在或已结束，请重新开始。"},
}

// lang picks "zh" when Accept-Language prefers Chinese over English, else "en".
func lang(r *http.Request) string {
	type entry struct {
		tag string
		q   float64
	}
	var list []entry
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		fields := strings.Split(strings.TrimSpace(part), ";")
		tag := strings.ToLower(strings.TrimSpace(fields[0]))
		if tag == "" {
			continue
		}
		q := 1.0
		for _, f := range fields[1:] {
			f = strings.TrimSpace(f)
			if strings.HasPrefix(f, "q=") {
				if v, err := strconv.ParseFloat(f[2:], 64); err == nil {
					q = v
				}
			}
		}
		list = append(list, entry{tag, q})
	}
	sort.SliceStable(list, func(i, j int) bool { return list[i].q > list[j].q })
	for _, e := range list {
		if e.q <= 0 {
			continue
		}
		if e.tag == "zh" || strings.HasPrefix(e.tag, "zh-") {
			return "zh"
		}
		if e.tag == "en" || strings.HasPrefix(e.tag, "en-") {
			return "en"
		}
	}
	return "en"
}

// tr returns the text of key in lang l.
func tr(l, key string) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	if l == "zh" {
		return m[1]
	}
	return m[0]
}

// page is the data of every template.
type page struct {
	Lang        string
	Cfg         config
	RedirectURI string
	StartLabel  string
	StartAction string
	Token       *token
	User        *user
	ExpiresAt   string
	Err         *apiError
	Device      *deviceView
}

// deviceView is what the device page shows.
type deviceView struct {
	ID              string
	VerificationURL string
	UserCode        string
}

// T is the translation used by the templates: {{.T "key"}}.
func (p page) T(key string) string { return tr(p.Lang, key) }

const layout = `<!doctype html>
<html lang="{{if eq .Lang "zh"}}zh-CN{{else}}en{{end}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.T "title"}}</title>
<style>
body{margin:0;background:#f4f5f7;color:#1f2329;font:15px/1.5 -apple-system,BlinkMacSystemFont,"Segoe UI","PingFang SC","Microsoft YaHei",sans-serif}
main{max-width:640px;margin:48px auto;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:32px}
h1{font-size:22px;margin:0 0 16px}
h1.ok{color:#1a7f37}h1.bad{color:#c62828}
p.note{color:#646a73;font-size:13px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:8px 16px;margin:16px 0}
dt{color:#646a73}dd{margin:0;word-break:break-all}
code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f4f5f7;border-radius:4px;padding:2px 4px}
.btn,button{display:inline-block;border:0;border-radius:8px;padding:8px 18px;font:inherit;cursor:pointer;background:#4d53e8;color:#fff;text-decoration:none}
button.copy{padding:2px 10px;margin-left:8px;font-size:12px;background:#e8e9ff;color:#4d53e8}
a.back{color:#4d53e8}
form{display:inline}
.code{font-size:28px;letter-spacing:4px;font-weight:600}
#status{padding:8px 12px;border-radius:8px;background:#f4f5f7}
#status.error{background:#fdecea;color:#c62828}
</style>
</head>
<body>
<main>
{{template "body" .}}
</main>
<script>
document.querySelectorAll("button[data-copy]").forEach(function (b) {
  b.addEventListener("click", function () {
    var text = document.getElementById(b.getAttribute("data-copy")).textContent;
    var done = function () { var old = b.textContent; b.textContent = b.getAttribute("data-copied"); setTimeout(function () { b.textContent = old; }, 1500); };
    if (navigator.clipboard) { navigator.clipboard.writeText(text).then(done); return; }
    var t = document.createElement("textarea"); t.value = text; document.body.appendChild(t); t.select(); document.execCommand("copy"); t.remove(); done();
  });
});
var statusLine = document.getElementById("status");
if (statusLine && statusLine.getAttribute("data-poll")) {
  var timer = setInterval(function () {
    fetch(statusLine.getAttribute("data-poll")).then(function (r) { return r.json(); }).then(function (s) {
      statusLine.textContent = s.message;
      if (s.state === "done") { clearInterval(timer); location.href = s.next; }
      if (s.state === "error") { clearInterval(timer); statusLine.className = "error"; }
    }).catch(function () {});
  }, 1000);
}
</script>
</body>
</html>
`

var bodies = map[string]string{
	"start": `<h1>{{.T "title"}}</h1>
<p>{{.T "intro"}}</p>
<dl>
<dt>{{.T "clientType"}}</dt><dd><code id="client-type">{{.Cfg.ClientType}}</code></dd>
<dt>{{.T "clientID"}}</dt><dd><code id="client-id">{{.Cfg.ClientID}}</code></dd>
<dt>{{.T "server"}}</dt><dd><code>{{.Cfg.APIBase}}</code></dd>
{{if .RedirectURI}}<dt>{{.T "redirectURI"}}</dt><dd><code>{{.RedirectURI}}</code></dd>{{end}}
</dl>
<form method="post" action="{{.StartAction}}"><button id="start" type="submit">{{.T .StartLabel}}</button></form>`,

	"success": `<h1 class="ok">{{.T "success"}}</h1>
<dl>
<dt>{{.T "userName"}}</dt><dd id="user-name">{{.User.NickName}}</dd>
<dt>{{.T "userID"}}</dt><dd id="user-id">{{.User.UserID}}</dd>
<dt>{{.T "accessToken"}}</dt><dd><code id="access-token">{{.Token.AccessToken}}</code><button class="copy" type="button" data-copy="access-token" data-copied="{{.T "copied"}}">{{.T "copy"}}</button></dd>
<dt>{{.T "expiresAt"}}</dt><dd id="expires-at" data-unix="{{.Token.ExpiresIn}}">{{.ExpiresAt}}</dd>
<dt>{{.T "refreshToken"}}</dt><dd><code id="refresh-token">{{.Token.RefreshToken}}</code></dd>
</dl>
<form method="post" action="/refresh"><button id="refresh" type="submit">{{.T "refresh"}}</button></form>
<p class="note">{{.T "tryOnly"}} <a class="back" href="/">{{.T "back"}}</a></p>`,

	"jwt": `<h1 class="ok">{{.T "tokenIssued"}}</h1>
<dl>
<dt>{{.T "clientID"}}</dt><dd><code id="client-id">{{.Cfg.ClientID}}</code></dd>
<dt>{{.T "accessToken"}}</dt><dd><code id="access-token">{{.Token.AccessToken}}</code><button class="copy" type="button" data-copy="access-token" data-copied="{{.T "copied"}}">{{.T "copy"}}</button></dd>
<dt>{{.T "expiresAt"}}</dt><dd id="expires-at" data-unix="{{.Token.ExpiresIn}}">{{.ExpiresAt}}</dd>
</dl>
<form method="post" action="/token"><button id="new-token" type="submit">{{.T "newToken"}}</button></form>
<p class="note">{{.T "tryOnly"}} <a class="back" href="/">{{.T "back"}}</a></p>`,

	"device": `<h1>{{.T "deviceTitle"}}</h1>
<p>{{.T "deviceHelp"}}</p>
<dl>
<dt>{{.T "verifyURI"}}</dt><dd><a id="verification-uri" href="{{.Device.VerificationURL}}" target="_blank" rel="noopener">{{.Device.VerificationURL}}</a></dd>
<dt>{{.T "userCode"}}</dt><dd><span id="user-code" class="code">{{.Device.UserCode}}</span></dd>
</dl>
<p id="status" data-poll="/device/status?id={{.Device.ID}}">{{.T "pending"}}</p>
<p class="note"><a class="back" href="/">{{.T "back"}}</a></p>`,

	"error": `<h1 class="bad">{{.T "failed"}}</h1>
<dl>
<dt>{{.T "error"}}</dt><dd id="error-message">{{.Err.Message}}</dd>
{{if .Err.Code}}<dt>{{.T "errorCode"}}</dt><dd><code id="error-code">{{.Err.Code}}</code></dd>{{end}}
{{if .Err.LogID}}<dt>{{.T "logid"}}</dt><dd><code id="logid">{{.Err.LogID}}</code></dd>{{end}}
</dl>
<p><a class="back" href="/">{{.T "back"}}</a></p>`,
}

var templates = func() map[string]*template.Template {
	base := template.Must(template.New("layout").Parse(layout))
	m := map[string]*template.Template{}
	for name, body := range bodies {
		m[name] = template.Must(template.Must(base.Clone()).New("body").Parse(body))
	}
	return m
}()

func (a *app) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	p.Lang = lang(r)
	p.Cfg = a.cfg
	if p.Token != nil {
		p.ExpiresAt = time.Unix(p.Token.ExpiresIn, 0).Format("2006-01-02 15:04:05 MST")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := templates[name].ExecuteTemplate(w, "layout", p); err != nil {
		fmt.Fprintln(os.Stderr, "rendering the page:", err)
	}
}

// renderStart shows the start page; label is the message key of the #start button, action where it posts.
func (a *app) renderStart(w http.ResponseWriter, r *http.Request, label, action, redirectURI string) {
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	a.render(w, r, http.StatusOK, "start", page{StartLabel: label, StartAction: action, RedirectURI: redirectURI})
}

func (a *app) renderSuccess(w http.ResponseWriter, r *http.Request, t *token, u *user) {
	a.render(w, r, http.StatusOK, "success", page{Token: t, User: u})
}

// fail shows the error page for a failed call to the server (HTTP 502) and notes it on stderr (no secrets in it).
func (a *app) fail(w http.ResponseWriter, r *http.Request, err error) {
	a.failWith(w, r, http.StatusBadGateway, err)
}

func (a *app) failWith(w http.ResponseWriter, r *http.Request, status int, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = &apiError{Message: err.Error()}
	}
	fmt.Fprintln(os.Stderr, "authorization failed:", e.Error())
	a.render(w, r, status, "error", page{Err: e})
}
