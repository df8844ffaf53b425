-- cozeauth schema, version 7: the gateway. Same dialect rules as 0001.
--
-- A user's own credential for the gateway's upstream (e.g. their Coze Studio
-- PAT), sealed with AES-256-GCM under the server's secret key, which is never
-- stored here.
CREATE TABLE upstream_tokens (
    user_id    TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed     TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
