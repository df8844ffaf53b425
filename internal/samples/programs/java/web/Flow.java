import com.sun.net.httpserver.HttpServer;

/** The web (confidential) client: authorization code, exchanged with the client secret. */
final class Flow {
    static final String TYPE = "web";

    private Flow() {
    }

    static void check() throws Sample.SetupException {
        if (Sample.clientSecret.isEmpty()) {
            throw Sample.missing("client_secret");
        }
    }

    static void routes(HttpServer server) {
        CodeFlow.routes(server, false);
    }
}
