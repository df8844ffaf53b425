import com.sun.net.httpserver.HttpExchange;

import java.io.IOException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The browser pages (self-contained HTML, English or Simplified Chinese) and their texts. */
final class Pages {
    private Pages() {
    }

    private static final Map<String, String[]> MESSAGES = new HashMap<>();

    private static void m(String key, String en, String zh) {
        MESSAGES.put(key, new String[] {en, zh});
    }

    static {
        m("title", "Coze OAuth sample", "Coze OAuth 示例");
        m("clientType", "Client type", "客户端类型");
        m("clientID", "Client ID", "客户端 ID");
        m("server", "Server", "服务地址");
        m("redirectURI", "Redirect URI", "重定向 URL");
        m("intro", "This sample runs the OAuth flow of your app against the server below.", "此示例程序使用你的应用，在下面的服务上运行 OAuth 授权流程。");
        m("start", "Start authorization", "开始授权");
        m("getToken", "Get token", "获取令牌");
        m("success", "Authorization Successful", "授权成功");
        m("userName", "User name", "用户名");
        m("userID", "User ID", "用户 ID");
        m("accessToken", "Access token", "访问令牌");
        m("expiresAt", "Expires at", "过期时间");
        m("refreshToken", "Refresh token", "刷新令牌");
        m("refresh", "Refresh token", "刷新令牌");
        m("copy", "Copy", "复制");
        m("copied", "Copied", "已复制");
        m("tokenIssued", "Token issued", "令牌已签发");
        m("newToken", "New token", "新令牌");
        m("failed", "Authorization failed", "授权失败");
        m("error", "Error", "错误");
        m("errorCode", "Error code", "错误码");
        m("logid", "Log ID", "日志 ID");
        m("back", "Back to start", "返回首页");
        m("tryOnly", "The token is for trying out only; keep it private.", "令牌仅供体验使用，请勿泄露。");
        m("deviceTitle", "Authorize this device", "授权此设备");
        m("deviceHelp", "Open the link below, sign in and confirm the user code.", "打开下面的链接，登录并确认用户码。");
        m("verifyURI", "Verification link", "验证链接");
        m("userCode", "User code", "用户码");
        m("pending", "Waiting for you to authorize in the browser…", "等待你在浏览器中完成授权…");
        m("slowDown", "The server asked to poll more slowly; now polling every %d s.", "服务器要求降低轮询频率，现在每 %d 秒轮询一次。");
        m("expired", "The user code has expired. Start again.", "用户码已过期，请重新开始。");
        m("denied", "Authorization was denied.", "授权已被拒绝。");
        m("done", "Authorized. Loading…", "已授权，正在加载…");
        m("stateMismatch", "The state in the callback does not match the one this sample sent. Start again.", "回调中的 state 与本示例发出的不一致，请重新开始。");
        m("noCode", "The callback has no authorization code.", "回调中没有授权码。");
        m("noToken", "There is no token yet; start the authorization first.", "还没有令牌，请先开始授权。");
        m("unknownFlow", "This authorization request is unknown or finished. Start again.", "此授权请求不存在或已结束，请重新开始。");
    }

    private static final String CSS = ""
            + "body{margin:0;background:#f4f5f7;color:#1f2329;font:15px/1.5 -apple-system,BlinkMacSystemFont,\"Segoe UI\",\"PingFang SC\",\"Microsoft YaHei\",sans-serif}\n"
            + "main{max-width:640px;margin:48px auto;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:32px}\n"
            + "h1{font-size:22px;margin:0 0 16px}\n"
            + "h1.ok{color:#1a7f37}h1.bad{color:#c62828}\n"
            + "p.note{color:#646a73;font-size:13px}\n"
            + "dl{display:grid;grid-template-columns:max-content 1fr;gap:8px 16px;margin:16px 0}\n"
            + "dt{color:#646a73}dd{margin:0;word-break:break-all}\n"
            + "code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f4f5f7;border-radius:4px;padding:2px 4px}\n"
            + ".btn,button{display:inline-block;border:0;border-radius:8px;padding:8px 18px;font:inherit;cursor:pointer;background:#4d53e8;color:#fff;text-decoration:none}\n"
            + "button.copy{padding:2px 10px;margin-left:8px;font-size:12px;background:#e8e9ff;color:#4d53e8}\n"
            + "a.back{color:#4d53e8}\n"
            + "form{display:inline}\n"
            + ".code{font-size:28px;letter-spacing:4px;font-weight:600}\n"
            + "#status{padding:8px 12px;border-radius:8px;background:#f4f5f7}\n"
            + "#status.error{background:#fdecea;color:#c62828}\n";

    private static final String SCRIPT = ""
            + "document.querySelectorAll(\"button[data-copy]\").forEach(function (b) {\n"
            + "  b.addEventListener(\"click\", function () {\n"
            + "    var text = document.getElementById(b.getAttribute(\"data-copy\")).textContent;\n"
            + "    var done = function () { var old = b.textContent; b.textContent = b.getAttribute(\"data-copied\"); setTimeout(function () { b.textContent = old; }, 1500); };\n"
            + "    if (navigator.clipboard) { navigator.clipboard.writeText(text).then(done); return; }\n"
            + "    var t = document.createElement(\"textarea\"); t.value = text; document.body.appendChild(t); t.select(); document.execCommand(\"copy\"); t.remove(); done();\n"
            + "  });\n"
            + "});\n"
            + "var statusLine = document.getElementById(\"status\");\n"
            + "if (statusLine && statusLine.getAttribute(\"data-poll\")) {\n"
            + "  var timer = setInterval(function () {\n"
            + "    fetch(statusLine.getAttribute(\"data-poll\")).then(function (r) { return r.json(); }).then(function (s) {\n"
            + "      statusLine.textContent = s.message;\n"
            + "      if (s.state === \"done\") { clearInterval(timer); location.href = s.next; }\n"
            + "      if (s.state === \"error\") { clearInterval(timer); statusLine.className = \"error\"; }\n"
            + "    }).catch(function () {});\n"
            + "  }, 1000);\n"
            + "}\n";

    private static final DateTimeFormatter DATE =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss z").withZone(ZoneId.systemDefault());

    /** Picks "zh" when Accept-Language prefers Chinese over English, else "en". */
    static String lang(HttpExchange ex) {
        String header = ex.getRequestHeaders().getFirst("Accept-Language");
        if (header == null) {
            return "en";
        }
        List<String> tags = new ArrayList<>();
        List<Double> qs = new ArrayList<>();
        for (String part : header.split(",")) {
            String[] fields = part.trim().split(";");
            String tag = fields[0].trim().toLowerCase();
            if (tag.isEmpty()) {
                continue;
            }
            double q = 1.0;
            for (int k = 1; k < fields.length; k++) {
                String f = fields[k].trim();
                if (f.startsWith("q=")) {
                    try {
                        q = Double.parseDouble(f.substring(2));
                    } catch (NumberFormatException e) {
                        // keep 1.0
                    }
                }
            }
            int at = qs.size(); // stable insertion by descending q
            while (at > 0 && qs.get(at - 1) < q) {
                at--;
            }
            tags.add(at, tag);
            qs.add(at, q);
        }
        for (int k = 0; k < tags.size(); k++) {
            String t = tags.get(k);
            if (qs.get(k) <= 0) {
                continue;
            }
            if (t.equals("zh") || t.startsWith("zh-")) {
                return "zh";
            }
            if (t.equals("en") || t.startsWith("en-")) {
                return "en";
            }
        }
        return "en";
    }

    /** Returns the text of key in lang l. */
    static String tr(String l, String key) {
        String[] m = MESSAGES.get(key);
        if (m == null) {
            return key;
        }
        return "zh".equals(l) ? m[1] : m[0];
    }

    /** HTML-escapes s for text and attribute values. */
    static String esc(String s) {
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '&': b.append("&amp;"); break;
                case '<': b.append("&lt;"); break;
                case '>': b.append("&gt;"); break;
                case '"': b.append("&#34;"); break;
                case '\'': b.append("&#39;"); break;
                default: b.append(c);
            }
        }
        return b.toString();
    }

    private static void send(HttpExchange ex, int status, String lang, String body) throws IOException {
        String html = "<!doctype html>\n"
                + "<html lang=\"" + ("zh".equals(lang) ? "zh-CN" : "en") + "\">\n"
                + "<head>\n"
                + "<meta charset=\"utf-8\">\n"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                + "<title>" + esc(tr(lang, "title")) + "</title>\n"
                + "<style>\n" + CSS + "</style>\n"
                + "</head>\n"
                + "<body>\n"
                + "<main>\n" + body + "\n</main>\n"
                + "<script>\n" + SCRIPT + "</script>\n"
                + "</body>\n"
                + "</html>\n";
        Sample.respond(ex, status, "text/html; charset=utf-8", html);
    }

    private static String row(String label, String valueHtml) {
        return "<dt>" + esc(label) + "</dt><dd>" + valueHtml + "</dd>\n";
    }

    private static String copyButton(String l, String id) {
        return "<button class=\"copy\" type=\"button\" data-copy=\"" + id + "\" data-copied=\"" + esc(tr(l, "copied"))
                + "\">" + esc(tr(l, "copy")) + "</button>";
    }

    private static String footer(String l) {
        return "<p class=\"note\">" + esc(tr(l, "tryOnly")) + " <a class=\"back\" href=\"/\">" + esc(tr(l, "back"))
                + "</a></p>";
    }

    /** The start page; label is the message key of the #start button, action where it posts. */
    static void start(HttpExchange ex, String label, String action, boolean showRedirect) throws IOException {
        String l = lang(ex);
        String body = "<h1>" + esc(tr(l, "title")) + "</h1>\n"
                + "<p>" + esc(tr(l, "intro")) + "</p>\n"
                + "<dl>\n"
                + row(tr(l, "clientType"), "<code id=\"client-type\">" + esc(Sample.clientType) + "</code>")
                + row(tr(l, "clientID"), "<code id=\"client-id\">" + esc(Sample.clientId) + "</code>")
                + row(tr(l, "server"), "<code>" + esc(Sample.apiBase) + "</code>")
                + (showRedirect ? row(tr(l, "redirectURI"), "<code>" + esc(Sample.redirectUri) + "</code>") : "")
                + "</dl>\n"
                + "<form method=\"post\" action=\"" + esc(action) + "\"><button id=\"start\" type=\"submit\">"
                + esc(tr(l, label)) + "</button></form>";
        send(ex, 200, l, body);
    }

    private static String expiry(Sample.Token t) {
        return "<dd id=\"expires-at\" data-unix=\"" + t.expiresIn + "\">"
                + esc(DATE.format(Instant.ofEpochSecond(t.expiresIn))) + "</dd>\n";
    }

    /** The success page of the web, pkce and device samples. */
    static void success(HttpExchange ex, Sample.Token t, Sample.User u) throws IOException {
        String l = lang(ex);
        String body = "<h1 class=\"ok\">" + esc(tr(l, "success")) + "</h1>\n"
                + "<dl>\n"
                + "<dt>" + esc(tr(l, "userName")) + "</dt><dd id=\"user-name\">" + esc(u.nickName) + "</dd>\n"
                + "<dt>" + esc(tr(l, "userID")) + "</dt><dd id=\"user-id\">" + esc(u.userId) + "</dd>\n"
                + row(tr(l, "accessToken"), "<code id=\"access-token\">" + esc(t.accessToken) + "</code>"
                        + copyButton(l, "access-token"))
                + "<dt>" + esc(tr(l, "expiresAt")) + "</dt>" + expiry(t)
                + row(tr(l, "refreshToken"), "<code id=\"refresh-token\">" + esc(t.refreshToken) + "</code>")
                + "</dl>\n"
                + "<form method=\"post\" action=\"/refresh\"><button id=\"refresh\" type=\"submit\">"
                + esc(tr(l, "refresh")) + "</button></form>\n"
                + footer(l);
        send(ex, 200, l, body);
    }

    /** The token page of the jwt sample. */
    static void jwtToken(HttpExchange ex, Sample.Token t) throws IOException {
        String l = lang(ex);
        String body = "<h1 class=\"ok\">" + esc(tr(l, "tokenIssued")) + "</h1>\n"
                + "<dl>\n"
                + row(tr(l, "clientID"), "<code id=\"client-id\">" + esc(Sample.clientId) + "</code>")
                + row(tr(l, "accessToken"), "<code id=\"access-token\">" + esc(t.accessToken) + "</code>"
                        + copyButton(l, "access-token"))
                + "<dt>" + esc(tr(l, "expiresAt")) + "</dt>" + expiry(t)
                + "</dl>\n"
                + "<form method=\"post\" action=\"/token\"><button id=\"new-token\" type=\"submit\">"
                + esc(tr(l, "newToken")) + "</button></form>\n"
                + footer(l);
        send(ex, 200, l, body);
    }

    /** The device page: the verification link, the user code and the status line the inline script updates. */
    static void device(HttpExchange ex, String id, String link, String userCode) throws IOException {
        String l = lang(ex);
        String body = "<h1>" + esc(tr(l, "deviceTitle")) + "</h1>\n"
                + "<p>" + esc(tr(l, "deviceHelp")) + "</p>\n"
                + "<dl>\n"
                + row(tr(l, "verifyURI"), "<a id=\"verification-uri\" href=\"" + esc(link)
                        + "\" target=\"_blank\" rel=\"noopener\">" + esc(link) + "</a>")
                + row(tr(l, "userCode"), "<span id=\"user-code\" class=\"code\">" + esc(userCode) + "</span>")
                + "</dl>\n"
                + "<p id=\"status\" data-poll=\"/device/status?id=" + esc(Sample.enc(id)) + "\">"
                + esc(tr(l, "pending")) + "</p>\n"
                + "<p class=\"note\"><a class=\"back\" href=\"/\">" + esc(tr(l, "back")) + "</a></p>";
        send(ex, 200, l, body);
    }

    /** The error page, with the server's message and log ID; noted on stderr (no secrets in it). */
    static void fail(HttpExchange ex, int status, Sample.ApiError e) throws IOException {
        System.err.println("authorization failed: " + e);
        String l = lang(ex);
        String body = "<h1 class=\"bad\">" + esc(tr(l, "failed")) + "</h1>\n"
                + "<dl>\n"
                + "<dt>" + esc(tr(l, "error")) + "</dt><dd id=\"error-message\">" + esc(e.getMessage()) + "</dd>\n"
                + (e.code.isEmpty() ? "" : row(tr(l, "errorCode"), "<code id=\"error-code\">" + esc(e.code) + "</code>"))
                + (e.logId.isEmpty() ? "" : row(tr(l, "logid"), "<code id=\"logid\">" + esc(e.logId) + "</code>"))
                + "</dl>\n"
                + "<p><a class=\"back\" href=\"/\">" + esc(tr(l, "back")) + "</a></p>";
        send(ex, status, l, body);
    }
}
