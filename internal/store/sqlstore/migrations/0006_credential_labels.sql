-- cozeauth schema, version 6: labels on client secrets and public keys (what
-- one is for, e.g. "sample 2026-01-02" for one minted by a sample download).
-- Same dialect rules as 0001. Existing rows get no label.
ALTER TABLE oauth_app_secrets ADD COLUMN label TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_app_keys ADD COLUMN label TEXT NOT NULL DEFAULT '';
