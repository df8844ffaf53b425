import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** The device client: a device code, a user code the user confirms in a browser, and polling of the token endpoint. */
final class Flow {
    static final String TYPE = "device";

    private Flow() {
    }

    static void check() {
        // a device client needs nothing beyond client_id
    }

    /** One device authorization and its poller's progress. */
    private static final class Run {
        String state = "pending"; // pending, slow_down, done, error
        int interval;
        String errKey = ""; // message key for expired_token / access_denied
        Sample.ApiError err;
        volatile boolean stopped;
    }

    private static String currentId = "";
    private static Run current;

    private static synchronized Run lookup(String id) {
        return id.equals(currentId) ? current : null;
    }

    static void routes(HttpServer server) {
        Map<String, Sample.Route> r = new HashMap<>();
        r.put("/", ex -> Pages.start(ex, "start", "/start", false));
        r.put("/start", Flow::start);
        r.put("/device/status", Flow::status);
        r.put("/device/done", Flow::done);
        r.put("/refresh", Sample::handleRefresh);
        Sample.serve(server, r);
    }

    /** Requests a device code (WIRE.md §3.3), starts polling and shows the link and the user code. */
    private static void start(HttpExchange ex) throws IOException {
        if (!"POST".equals(ex.getRequestMethod())) {
            Sample.redirect(ex, "/");
            return;
        }
        Sample.drain(ex);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("client_id", Sample.clientId);
        Map<String, Object> dc;
        try {
            dc = Sample.postJson("/api/permission/oauth2/device/code", "", body);
        } catch (Sample.ApiError e) {
            Pages.fail(ex, 502, e);
            return;
        }
        String deviceCode = Json.str(dc, "device_code");
        String userCode = Json.str(dc, "user_code");
        String uri = Json.str(dc, "verification_uri");
        if (deviceCode.isEmpty() || userCode.isEmpty() || uri.isEmpty()) {
            Pages.fail(ex, 502, new Sample.ApiError(
                    "the device code endpoint answered without device_code, user_code or verification_uri"));
            return;
        }
        Run run = new Run();
        run.interval = (int) Math.max(1, Json.num(dc, "interval", 5));
        long deadline = Json.num(dc, "expires_in", 0) * 1000L;
        if (deadline <= System.currentTimeMillis()) { // not an absolute time: fall back to 10 minutes
            deadline = System.currentTimeMillis() + 10 * 60 * 1000L;
        }
        String id = Sample.randomHex(12);
        synchronized (Flow.class) {
            if (current != null) {
                current.stopped = true; // one authorization at a time: stop polling for the previous one
            }
            current = run;
            currentId = id;
        }
        long until = deadline;
        Thread poller = new Thread(() -> poll(run, deviceCode, until), "device-poller");
        poller.setDaemon(true);
        poller.start();
        Pages.device(ex, id, uri + "?user_code=" + Sample.enc(userCode), userCode);
    }

    /** Asks the token endpoint for the device token every interval (slow_down adds 5 s) until a final answer. */
    private static void poll(Run run, String deviceCode, long deadline) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("client_id", Sample.clientId);
        body.put("grant_type", "urn:ietf:params:oauth:grant-type:device_code");
        body.put("device_code", deviceCode);
        while (true) {
            int wait;
            synchronized (run) {
                wait = run.interval;
            }
            try {
                Thread.sleep(wait * 1000L);
            } catch (InterruptedException e) {
                return;
            }
            if (run.stopped) {
                return;
            }
            try {
                Sample.Token t = Sample.requestToken("", body);
                Sample.User u = Sample.me(t.accessToken);
                Sample.setCurrent(t, u);
                finish(run, "done", "", null);
                return;
            } catch (Sample.ApiError e) {
                switch (e.code) {
                    case "authorization_pending":
                        break;
                    case "slow_down":
                        synchronized (run) {
                            run.state = "slow_down";
                            run.interval += 5;
                        }
                        break;
                    case "expired_token":
                        finish(run, "error", "expired", e);
                        return;
                    case "access_denied":
                        finish(run, "error", "denied", e);
                        return;
                    default:
                        finish(run, "error", "", e);
                        return;
                }
            }
            if (System.currentTimeMillis() > deadline) {
                finish(run, "error", "expired", new Sample.ApiError("expired_token", "the device code expired", ""));
                return;
            }
        }
    }

    private static void finish(Run run, String state, String key, Sample.ApiError e) {
        synchronized (run) {
            run.state = state;
            run.errKey = key;
            run.err = e;
        }
        if (e != null) {
            System.out.println("device authorization ended: " + e);
        }
    }

    /** Answers the device page's polling: {"state", "message", "next"}. */
    private static void status(HttpExchange ex) throws IOException {
        String l = Pages.lang(ex);
        String id = Sample.query(ex).getOrDefault("id", "");
        Run run = lookup(id);
        Map<String, Object> out = new LinkedHashMap<>();
        if (run == null) {
            out.put("state", "error");
            out.put("message", Pages.tr(l, "unknownFlow"));
        } else {
            synchronized (run) {
                out.put("state", run.state);
                switch (run.state) {
                    case "pending":
                        out.put("message", Pages.tr(l, "pending"));
                        break;
                    case "slow_down":
                        out.put("state", "pending");
                        out.put("message", String.format(Pages.tr(l, "slowDown"), run.interval));
                        break;
                    case "done":
                        out.put("message", Pages.tr(l, "done"));
                        out.put("next", "/device/done?id=" + Sample.enc(id));
                        break;
                    default:
                        String msg = run.err.toString();
                        if (!run.errKey.isEmpty()) {
                            msg = Pages.tr(l, run.errKey) + " (" + msg + ")";
                        }
                        out.put("message", msg);
                }
            }
        }
        Sample.respond(ex, 200, "application/json", Json.write(out));
    }

    /** Shows the success page once the poller has the token (or the error page). */
    private static void done(HttpExchange ex) throws IOException {
        Run run = lookup(Sample.query(ex).getOrDefault("id", ""));
        if (run == null) {
            Pages.fail(ex, 200, new Sample.ApiError(Pages.tr(Pages.lang(ex), "unknownFlow")));
            return;
        }
        String state;
        Sample.ApiError err;
        synchronized (run) {
            state = run.state;
            err = run.err;
        }
        if (state.equals("done")) {
            Pages.success(ex, Sample.currentToken(), Sample.currentUser());
        } else if (state.equals("error")) {
            Pages.fail(ex, 502, err);
        } else {
            Sample.redirect(ex, "/");
        }
    }
}
