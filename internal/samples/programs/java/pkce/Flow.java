import com.sun.net.httpserver.HttpServer;

/** The pkce (public) client: authorization code with an S256 code challenge, exchanged with the code verifier. */
final class Flow {
    static final String TYPE = "pkce";

    private Flow() {
    }

    static void check() {
        // a public client needs nothing beyond client_id
    }

    static void routes(HttpServer server) {
        CodeFlow.routes(server, true);
    }
}
