-- cozeauth schema, version 5: the enterprise upgrade. Same dialect rules as
-- 0001.
--
-- Who made a grant (the consenting user, or the admin who installed an app in
-- an enterprise, whose user_id is ''). Grants made before this version show no
-- one.
ALTER TABLE oauth_grants ADD COLUMN created_by TEXT NOT NULL DEFAULT '';

-- A personal account lets an enterprise credential (a PAT's ID, or an
-- installed Service app's ID) reach its account-level resources. The
-- credential ID is polymorphic, so no foreign key; rows go with the
-- credential, the app, the installation and the membership (see the store).
CREATE TABLE account_authorizations (
    account_id    TEXT NOT NULL,
    credential_id TEXT NOT NULL,
    kind          TEXT NOT NULL,
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id) ON DELETE CASCADE,
    created_by    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, credential_id)
);
CREATE INDEX account_authorizations_credential ON account_authorizations (credential_id);

-- The audit log of security events (workspace migrations, installations,
-- authorizations, membership changes). detail is a JSON object.
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_id    TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE INDEX audit_events_target ON audit_events (target_type, target_id);
