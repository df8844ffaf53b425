import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/** The jwt (service) client: an RS256 JWT signed with the app's private key, exchanged for an access token. */
final class Flow {
    static final String TYPE = "jwt";

    private static PrivateKey key;
    private static String aud;

    private Flow() {
    }

    /** Parses the PKCS#8 private key and derives the audience (host[:port] of coze_api_base). */
    static void check() throws Sample.SetupException {
        if (Sample.privateKey.isEmpty()) {
            throw Sample.missing("private_key");
        }
        if (Sample.publicKeyId.isEmpty()) {
            throw Sample.missing("public_key_id");
        }
        String pem = Sample.privateKey.trim();
        String begin = "-----BEGIN PRIVATE KEY-----";
        String end = "-----END PRIVATE KEY-----";
        if (!pem.startsWith(begin) || !pem.endsWith(end)) {
            throw new Sample.SetupException(Sample.CONFIG_FILE
                    + ": private_key is not a PKCS#8 PEM block (-----BEGIN PRIVATE KEY-----)");
        }
        try {
            byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin.length(), pem.length() - end.length()));
            key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            throw new Sample.SetupException(Sample.CONFIG_FILE + ": private_key is not an RSA PKCS#8 key: "
                    + e.getMessage());
        }
        String authority;
        try {
            authority = URI.create(Sample.apiBase).getRawAuthority();
        } catch (IllegalArgumentException e) {
            authority = null;
        }
        if (authority == null || authority.isEmpty()) {
            throw new Sample.SetupException(Sample.CONFIG_FILE + ": coze_api_base has no host");
        }
        aud = authority.substring(authority.indexOf('@') + 1);
    }

    static void routes(HttpServer server) {
        Map<String, Sample.Route> r = new HashMap<>();
        r.put("/", ex -> Pages.start(ex, "getToken", "/token", false));
        r.put("/token", Flow::token);
        Sample.serve(server, r);
    }

    private static void token(HttpExchange ex) throws IOException {
        if (!"POST".equals(ex.getRequestMethod())) {
            Sample.redirect(ex, "/");
            return;
        }
        Sample.drain(ex);
        String jwt;
        try {
            jwt = sign();
        } catch (GeneralSecurityException e) {
            Pages.fail(ex, 502, new Sample.ApiError("signing the JWT: " + e.getMessage()));
            return;
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer");
        body.put("duration_seconds", 900);
        Sample.Token t;
        try {
            t = Sample.requestToken(jwt, body);
        } catch (Sample.ApiError e) {
            Pages.fail(ex, 502, e);
            return;
        }
        Pages.jwtToken(ex, t);
    }

    /** Makes the RS256 JWT of WIRE.md §4.2: kid = public_key_id, iss = client_id, aud = API host, exp = iat+600. */
    private static String sign() throws GeneralSecurityException {
        long now = System.currentTimeMillis() / 1000;
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("alg", "RS256");
        header.put("typ", "JWT");
        header.put("kid", Sample.publicKeyId);
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", Sample.clientId);
        claims.put("aud", aud);
        claims.put("iat", now);
        claims.put("exp", now + 600);
        claims.put("jti", Sample.randomHex(16));
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String signing = b64.encodeToString(Json.write(header).getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(Json.write(claims).getBytes(StandardCharsets.UTF_8));
        Signature s = Signature.getInstance("SHA256withRSA");
        s.initSign(key);
        s.update(signing.getBytes(StandardCharsets.US_ASCII));
        return signing + "." + b64.encodeToString(s.sign());
    }
}
