-- cozeauth schema, version 3: browser sessions of the web pages. Same dialect
-- rules as 0001. The session ID is never stored, only its SHA-256 (id_hash).
CREATE TABLE sessions (
    id_hash     TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_secret TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);
