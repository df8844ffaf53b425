import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/** The authorization-code flow of web apps (client secret) and pkce apps (S256 code verifier). */
final class CodeFlow {
    private CodeFlow() {
    }

    /** A state this sample sent (with its PKCE verifier), kept until the callback uses it. */
    private static final class Pending {
        final String verifier;
        final long at = System.currentTimeMillis();

        Pending(String verifier) {
            this.verifier = verifier;
        }
    }

    private static final Map<String, Pending> PENDING = new HashMap<>();

    static void routes(HttpServer server, boolean pkce) {
        Map<String, Sample.Route> r = new HashMap<>();
        r.put("/", ex -> Pages.start(ex, "start", "/start", true));
        r.put("/start", ex -> start(ex, pkce));
        r.put("/callback", ex -> callback(ex, pkce));
        r.put("/refresh", Sample::handleRefresh);
        Sample.serve(server, r);
    }

    /** Redirects the browser to the authorization page with a fresh state (and PKCE challenge). */
    private static void start(HttpExchange ex, boolean pkce) throws IOException {
        Sample.drain(ex);
        String state = Sample.randomHex(16);
        String verifier = pkce ? Sample.randomHex(32) : "";
        StringBuilder url = new StringBuilder(Sample.wwwBase).append("/api/permission/oauth2/authorize")
                .append("?response_type=code")
                .append("&client_id=").append(Sample.enc(Sample.clientId))
                .append("&redirect_uri=").append(Sample.enc(Sample.redirectUri))
                .append("&state=").append(state);
        if (pkce) {
            url.append("&code_challenge=").append(s256(verifier)).append("&code_challenge_method=S256");
        }
        synchronized (PENDING) {
            long old = System.currentTimeMillis() - 30 * 60 * 1000L; // forget flows never finished
            for (Iterator<Pending> it = PENDING.values().iterator(); it.hasNext();) {
                if (it.next().at < old) {
                    it.remove();
                }
            }
            PENDING.put(state, new Pending(verifier));
        }
        Sample.redirect(ex, url.toString());
    }

    private static String s256(String verifier) {
        try {
            byte[] sum = MessageDigest.getInstance("SHA-256").digest(verifier.getBytes(StandardCharsets.US_ASCII));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(sum);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e); // every JDK has SHA-256
        }
    }

    /** Checks the state, exchanges the code (WIRE.md §3.2) and shows the user. */
    private static void callback(HttpExchange ex, boolean pkce) throws IOException {
        Map<String, String> q = Sample.query(ex);
        String l = Pages.lang(ex);
        String state = q.getOrDefault("state", "");
        Pending p;
        synchronized (PENDING) {
            p = PENDING.remove(state);
        }
        if (p == null) {
            Pages.fail(ex, 200, new Sample.ApiError(Pages.tr(l, "stateMismatch")));
            return;
        }
        String error = q.getOrDefault("error", "");
        if (!error.isEmpty()) {
            String msg = q.getOrDefault("error_description", "");
            if (msg.isEmpty()) {
                msg = q.getOrDefault("error_message", "");
            }
            if (msg.isEmpty() && error.equals("access_denied")) {
                msg = Pages.tr(l, "denied");
            }
            if (msg.isEmpty()) {
                msg = error;
            }
            Pages.fail(ex, 200, new Sample.ApiError(error, msg, q.getOrDefault("logid", "")));
            return;
        }
        String code = q.getOrDefault("code", "");
        if (code.isEmpty()) {
            Pages.fail(ex, 200, new Sample.ApiError(Pages.tr(l, "noCode")));
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("client_id", Sample.clientId);
        body.put("grant_type", "authorization_code");
        body.put("code", code);
        body.put("redirect_uri", Sample.redirectUri);
        String bearer = Sample.clientSecret;
        if (pkce) {
            body.put("code_verifier", p.verifier);
            bearer = "";
        }
        Sample.Token t;
        try {
            t = Sample.requestToken(bearer, body);
        } catch (Sample.ApiError e) {
            Pages.fail(ex, 502, e);
            return;
        }
        Sample.finish(ex, t);
    }
}
