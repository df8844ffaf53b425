-- cozeauth schema, version 2: OAuth apps, grants, codes and tokens. Same
-- dialect rules as 0001: TEXT, BIGINT, Unix seconds, booleans as 0/1, IDs made
-- by the application. Lists (permissions, redirect URIs, workspace IDs, bot
-- IDs) are JSON arrays in TEXT columns: they are only ever read whole.
-- Everything an app owns goes with it (ON DELETE CASCADE; SQLite runs with
-- foreign_keys on).

CREATE TABLE oauth_apps (
    id                           TEXT PRIMARY KEY,
    client_id                    TEXT NOT NULL UNIQUE,
    name                         TEXT NOT NULL,
    description                  TEXT NOT NULL,
    owner_type                   TEXT NOT NULL,
    owner_id                     TEXT NOT NULL,
    created_by                   TEXT NOT NULL,
    client_type                  TEXT NOT NULL,
    redirect_uris                TEXT NOT NULL,
    permissions                  TEXT NOT NULL,
    active                       BIGINT NOT NULL,
    allow_refresh_without_secret BIGINT NOT NULL,
    created_at                   BIGINT NOT NULL,
    updated_at                   BIGINT NOT NULL
);
CREATE INDEX oauth_apps_owner ON oauth_apps (owner_type, owner_id);

CREATE TABLE oauth_app_secrets (
    id         TEXT PRIMARY KEY,
    app_id     TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    hash       TEXT NOT NULL UNIQUE,
    hint       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX oauth_app_secrets_app ON oauth_app_secrets (app_id);

CREATE TABLE oauth_app_keys (
    app_id         TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    id             TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (app_id, id)
);

-- user_id is '' for an enterprise installation, so it cannot reference users.
CREATE TABLE oauth_grants (
    id             TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    kind           TEXT NOT NULL,
    user_id        TEXT NOT NULL,
    owner_type     TEXT NOT NULL,
    owner_id       TEXT NOT NULL,
    permissions    TEXT NOT NULL,
    all_workspaces BIGINT NOT NULL,
    workspace_ids  TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE UNIQUE INDEX oauth_grants_key ON oauth_grants (app_id, kind, owner_type, owner_id, user_id);
CREATE INDEX oauth_grants_user ON oauth_grants (user_id);
CREATE INDEX oauth_grants_owner ON oauth_grants (owner_type, owner_id);

CREATE TABLE oauth_auth_codes (
    hash             TEXT PRIMARY KEY,
    app_id           TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    grant_id         TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    redirect_uri     TEXT NOT NULL,
    code_challenge   TEXT NOT NULL,
    challenge_method TEXT NOT NULL,
    expires_at       BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    used_at          BIGINT NOT NULL,
    reused_at        BIGINT NOT NULL,
    issued_family    TEXT NOT NULL
);
CREATE INDEX oauth_auth_codes_grant ON oauth_auth_codes (grant_id);
CREATE INDEX oauth_auth_codes_expires ON oauth_auth_codes (expires_at);

-- grant_id is '' until approved, so it cannot reference oauth_grants; deleting
-- a grant deletes its device codes in code.
CREATE TABLE oauth_device_codes (
    device_hash    TEXT PRIMARY KEY,
    user_code      TEXT NOT NULL UNIQUE,
    app_id         TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    workspace_id   TEXT NOT NULL,
    grant_id       TEXT NOT NULL,
    status         TEXT NOT NULL,
    expires_at     BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    last_polled_at BIGINT NOT NULL
);
CREATE INDEX oauth_device_codes_app ON oauth_device_codes (app_id);
CREATE INDEX oauth_device_codes_grant ON oauth_device_codes (grant_id);
CREATE INDEX oauth_device_codes_expires ON oauth_device_codes (expires_at);

-- Tokens outlive their grant's deletion as revoked rows (grant_id is not a
-- foreign key), so a replayed refresh token is still recognised as revoked.
CREATE TABLE oauth_tokens (
    id           TEXT PRIMARY KEY,
    hash         TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,
    app_id       TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    grant_id     TEXT NOT NULL,
    family_id    TEXT NOT NULL,
    session_name TEXT NOT NULL,
    permissions  TEXT NOT NULL,
    bot_ids      TEXT NOT NULL,
    expires_at   BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT NOT NULL,
    rotated_at   BIGINT NOT NULL
);
CREATE INDEX oauth_tokens_app ON oauth_tokens (app_id);
CREATE INDEX oauth_tokens_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_family ON oauth_tokens (family_id);
CREATE INDEX oauth_tokens_expires ON oauth_tokens (expires_at);

CREATE TABLE oauth_jtis (
    app_id     TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (app_id, jti)
);
CREATE INDEX oauth_jtis_expires ON oauth_jtis (expires_at);
