import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Paths;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * A Coze OAuth sample: reads coze_oauth_config.json from the current directory and serves a small web page on
 * http://127.0.0.1:$PORT (default 8080) that runs one authorization flow against the server named in the config.
 * JDK only (11 or newer); run it with bootstrap.sh.
 */
public final class Sample {
    static final String CONFIG_FILE = "coze_oauth_config.json";

    // The keys of coze_oauth_config.json.
    static String clientType;
    static String clientId;
    static String clientSecret;
    static String privateKey;
    static String publicKeyId;
    static String apiBase;
    static String wwwBase;

    static int port;
    static String redirectUri;

    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    private static final SecureRandom RANDOM = new SecureRandom();

    public static void main(String[] args) {
        try {
            run();
        } catch (SetupException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    /** A problem with the config or the environment: printed as one line, then exit 1. */
    static final class SetupException extends Exception {
        private static final long serialVersionUID = 1L;

        SetupException(String message) {
            super(message);
        }
    }

    private static void run() throws SetupException {
        loadConfig();
        if (!clientType.equals(Flow.TYPE)) {
            throw new SetupException(CONFIG_FILE + ": client_type is \"" + clientType + "\", but this is the \""
                    + Flow.TYPE + "\" sample");
        }
        port = portFromEnv();
        redirectUri = "http://127.0.0.1:" + port + "/callback";
        Flow.check();
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        } catch (BindException e) {
            throw new SetupException("cannot listen on 127.0.0.1:" + port
                    + " (is another program using it? set PORT to another port): " + e.getMessage());
        } catch (IOException e) {
            throw new SetupException("cannot listen on 127.0.0.1:" + port + ": " + e.getMessage());
        }
        server.setExecutor(Executors.newCachedThreadPool());
        Flow.routes(server);
        server.start();
        System.out.println("Open http://127.0.0.1:" + port);
    }

    private static void loadConfig() throws SetupException {
        String text;
        try {
            text = new String(Files.readAllBytes(Paths.get(CONFIG_FILE)), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new SetupException(CONFIG_FILE
                    + " not found in the current directory; run the sample from the folder it was unzipped into");
        } catch (IOException e) {
            throw new SetupException("cannot read " + CONFIG_FILE + ": " + e.getMessage());
        }
        Map<String, Object> cfg;
        try {
            cfg = Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw new SetupException(CONFIG_FILE + " is not valid JSON: " + e.getMessage());
        }
        clientType = Json.str(cfg, "client_type");
        clientId = Json.str(cfg, "client_id");
        clientSecret = Json.str(cfg, "client_secret");
        privateKey = Json.str(cfg, "private_key");
        publicKeyId = Json.str(cfg, "public_key_id");
        apiBase = trimSlash(Json.str(cfg, "coze_api_base"));
        wwwBase = trimSlash(Json.str(cfg, "coze_www_base"));
        if (clientType.isEmpty()) {
            throw missing("client_type");
        }
        if (clientId.isEmpty()) {
            throw missing("client_id");
        }
        if (apiBase.isEmpty()) {
            throw missing("coze_api_base");
        }
        if (!apiBase.startsWith("http://") && !apiBase.startsWith("https://")) {
            throw new SetupException(CONFIG_FILE + ": coze_api_base \"" + apiBase + "\" is not an http(s) URL");
        }
        if (wwwBase.isEmpty()) {
            wwwBase = apiBase;
        }
    }

    static SetupException missing(String key) {
        return new SetupException(CONFIG_FILE + ": " + key + " is missing");
    }

    private static String trimSlash(String s) {
        while (s.endsWith("/")) {
            s = s.substring(0, s.length() - 1);
        }
        return s;
    }

    private static int portFromEnv() throws SetupException {
        String s = System.getenv("PORT");
        if (s == null || s.isEmpty()) {
            return 8080;
        }
        try {
            int p = Integer.parseInt(s);
            if (p >= 1 && p <= 65535) {
                return p;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new SetupException("PORT=\"" + s + "\" is not a port number (1-65535)");
    }

    // ---- Calls to the server ----

    /** A failed call: the server's error code and message and its log ID, or a transport error. */
    static final class ApiError extends Exception {
        private static final long serialVersionUID = 1L;
        final String code; // OAuth error code (authorization_pending, invalid_client, …); "" for other failures
        final String logId;

        ApiError(String code, String message, String logId) {
            super(message);
            this.code = code == null ? "" : code;
            this.logId = logId == null ? "" : logId;
        }

        ApiError(String message) {
            this("", message, "");
        }

        @Override
        public String toString() {
            String s = getMessage();
            if (!code.isEmpty()) {
                s = code + ": " + s;
            }
            if (!logId.isEmpty()) {
                s += " (logid " + logId + ")";
            }
            return s;
        }
    }

    /** A token response (WIRE.md §3.4); expiresIn is an absolute Unix time in seconds. */
    static final class Token {
        final String accessToken;
        final long expiresIn;
        final String refreshToken;

        Token(String accessToken, long expiresIn, String refreshToken) {
            this.accessToken = accessToken;
            this.expiresIn = expiresIn;
            this.refreshToken = refreshToken;
        }
    }

    /** The data of GET /v1/users/me. */
    static final class User {
        final String userId;
        final String userName;
        final String nickName;

        User(String userId, String userName, String nickName) {
            this.userId = userId;
            this.userName = userName;
            this.nickName = nickName;
        }
    }

    /** POSTs body as JSON to the API base + path; bearer null or "" sends no Authorization header. */
    static Map<String, Object> postJson(String path, String bearer, Map<String, Object> body) throws ApiError {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(apiBase + path))
                .timeout(Duration.ofSeconds(15))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(Json.write(body), StandardCharsets.UTF_8));
        if (bearer != null && !bearer.isEmpty()) {
            b.header("Authorization", "Bearer " + bearer);
        }
        return send(b.build());
    }

    private static Map<String, Object> send(HttpRequest req) throws ApiError {
        HttpResponse<String> resp;
        try {
            resp = HTTP.send(req, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        } catch (ConnectException e) {
            throw new ApiError("cannot reach " + req.uri().getAuthority() + ": connection refused");
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            throw new ApiError("cannot reach " + req.uri().getAuthority() + ": " + why);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiError("interrupted");
        }
        String logId = resp.headers().firstValue("X-Tt-Logid").orElse("");
        String path = req.uri().getPath();
        Map<String, Object> obj;
        try {
            obj = Json.parseObject(resp.body());
        } catch (IllegalArgumentException e) {
            throw new ApiError("", path + " answered HTTP " + resp.statusCode() + ", not a JSON object", logId);
        }
        String code = Json.str(obj, "error_code");
        if (code.isEmpty()) {
            code = Json.str(obj, "error");
        }
        if (!code.isEmpty() || resp.statusCode() / 100 != 2) {
            String msg = Json.str(obj, "error_message");
            if (msg.isEmpty()) {
                msg = Json.str(obj, "error_description");
            }
            if (msg.isEmpty()) {
                msg = Json.str(obj, "msg");
            }
            if (msg.isEmpty()) {
                msg = path + " answered HTTP " + resp.statusCode();
            }
            if (logId.isEmpty()) {
                logId = Json.str(Json.obj(obj, "detail"), "logid");
            }
            throw new ApiError(code, msg, logId);
        }
        return obj;
    }

    /** POSTs a grant to the token endpoint and returns the token. */
    static Token requestToken(String bearer, Map<String, Object> body) throws ApiError {
        Map<String, Object> obj = postJson("/api/permission/oauth2/token", bearer, body);
        String access = Json.str(obj, "access_token");
        if (access.isEmpty()) {
            throw new ApiError("the token endpoint answered without an access_token");
        }
        return new Token(access, Json.num(obj, "expires_in", 0), Json.str(obj, "refresh_token"));
    }

    /** Exchanges a refresh token (WIRE.md §3.2: a web app sends its client secret, other types none). */
    static Token refresh(String refreshToken) throws ApiError {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("client_id", clientId);
        body.put("grant_type", "refresh_token");
        body.put("refresh_token", refreshToken);
        return requestToken("web".equals(clientType) ? clientSecret : "", body);
    }

    /** Calls GET /v1/users/me with the access token. */
    static User me(String accessToken) throws ApiError {
        HttpRequest req = HttpRequest.newBuilder(URI.create(apiBase + "/v1/users/me"))
                .timeout(Duration.ofSeconds(15))
                .header("Authorization", "Bearer " + accessToken)
                .GET()
                .build();
        Map<String, Object> obj = send(req);
        Map<String, Object> data = Json.obj(obj, "data");
        long code = Json.num(obj, "code", 0);
        if (code != 0 || data == null) {
            String msg = Json.str(obj, "msg");
            if (msg.isEmpty()) {
                msg = "/v1/users/me answered code " + code;
            }
            throw new ApiError("", msg, Json.str(Json.obj(obj, "detail"), "logid"));
        }
        return new User(Json.str(data, "user_id"), Json.str(data, "user_name"), Json.str(data, "nick_name"));
    }

    // ---- The signed-in result, kept in memory only ----

    private static Token currentToken;
    private static User currentUser;

    static synchronized void setCurrent(Token t, User u) {
        currentToken = t;
        currentUser = u;
    }

    static synchronized Token currentToken() {
        return currentToken;
    }

    static synchronized User currentUser() {
        return currentUser;
    }

    /** Fetches the user with a fresh token and shows the success page (or the error page). */
    static void finish(HttpExchange ex, Token t) throws IOException {
        User u;
        try {
            u = me(t.accessToken);
        } catch (ApiError e) {
            Pages.fail(ex, 502, e);
            return;
        }
        setCurrent(t, u);
        Pages.success(ex, t, u);
    }

    /** POST /refresh of the web, pkce and device samples. */
    static void handleRefresh(HttpExchange ex) throws IOException {
        if (!"POST".equals(ex.getRequestMethod())) {
            redirect(ex, "/");
            return;
        }
        drain(ex);
        Token t = currentToken();
        if (t == null || t.refreshToken.isEmpty()) {
            Pages.fail(ex, 502, new ApiError(Pages.tr(Pages.lang(ex), "noToken")));
            return;
        }
        Token nt;
        try {
            nt = refresh(t.refreshToken);
        } catch (ApiError e) {
            Pages.fail(ex, 502, e);
            return;
        }
        finish(ex, nt);
    }

    // ---- Small HTTP helpers ----

    static String randomHex(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        StringBuilder s = new StringBuilder();
        for (byte x : b) {
            s.append(String.format("%02x", x));
        }
        return s.toString();
    }

    /** Returns the decoded query parameters of the request (the first value of each). */
    static Map<String, String> query(HttpExchange ex) {
        Map<String, String> m = new LinkedHashMap<>();
        String q = ex.getRequestURI().getRawQuery();
        if (q == null) {
            return m;
        }
        for (String part : q.split("&")) {
            if (part.isEmpty()) {
                continue;
            }
            int eq = part.indexOf('=');
            String k = eq < 0 ? part : part.substring(0, eq);
            String v = eq < 0 ? "" : part.substring(eq + 1);
            try {
                k = URLDecoder.decode(k, StandardCharsets.UTF_8);
                v = URLDecoder.decode(v, StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                continue;
            }
            m.putIfAbsent(k, v);
        }
        return m;
    }

    static String enc(String s) {
        return java.net.URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Reads and drops the request body (form posts carry nothing this sample needs). */
    static void drain(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] buf = new byte[4096];
            while (in.read(buf) >= 0) {
                // discard
            }
        }
    }

    static void redirect(HttpExchange ex, String location) throws IOException {
        ex.getResponseHeaders().set("Location", location);
        ex.sendResponseHeaders(location.startsWith("/") ? 303 : 302, -1);
        ex.close();
    }

    static void respond(HttpExchange ex, int status, String contentType, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(status, b.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(b);
        }
    }

    /** A route handler that may throw IOException; anything else unexpected becomes the error page. */
    interface Route {
        void handle(HttpExchange ex) throws IOException;
    }

    /** Registers the routes of a flow under exact paths; other paths answer 404. */
    static void serve(HttpServer server, Map<String, Route> routes) {
        server.createContext("/", ex -> {
            try {
                Route r = routes.get(ex.getRequestURI().getPath());
                if (r == null) {
                    respond(ex, 404, "text/plain; charset=utf-8", "404 page not found\n");
                    return;
                }
                r.handle(ex);
            } catch (RuntimeException e) {
                System.err.println("internal error: " + e);
                try {
                    Pages.fail(ex, 500, new ApiError(e.toString()));
                } catch (IOException | RuntimeException ignored) {
                    // the response was already started
                }
            } finally {
                ex.close();
            }
        });
    }
}
