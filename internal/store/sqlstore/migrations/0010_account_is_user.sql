-- cozeauth schema, version 10: a user's personal account ID is the user's ID
-- (their UID), as on Coze, where a developer reads the UID on the account page
-- and passes it as the JWT personal account ID. Until now each user had a
-- second, random account ID that no page showed.
--
-- Every reference to an old account ID is rewritten to the user's ID. The old
-- IDs are kept as aliases that only the JWT account endpoint
-- (…/oauth2/account/{id}/token) still resolves, so a service configured with an
-- old ID keeps getting tokens after the upgrade (its tokens then name the new
-- ID). Nothing else accepts an alias: an authorization check names resources
-- with the IDs cozeauth reports now, and a stale ID there is refused rather
-- than silently widened. Same dialect rules as 0001.
CREATE TABLE account_aliases (
    id      TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE
);
CREATE INDEX account_aliases_user ON account_aliases (user_id);

INSERT INTO account_aliases (id, user_id) SELECT account_id, id FROM users WHERE account_id <> id;

UPDATE workspaces SET owner_id = (SELECT a.user_id FROM account_aliases a WHERE a.id = workspaces.owner_id)
    WHERE owner_type = 'personal' AND owner_id IN (SELECT id FROM account_aliases);
UPDATE credentials SET owner_id = (SELECT a.user_id FROM account_aliases a WHERE a.id = credentials.owner_id)
    WHERE owner_type = 'personal' AND owner_id IN (SELECT id FROM account_aliases);
UPDATE oauth_apps SET owner_id = (SELECT a.user_id FROM account_aliases a WHERE a.id = oauth_apps.owner_id)
    WHERE owner_type = 'personal' AND owner_id IN (SELECT id FROM account_aliases);
UPDATE oauth_grants SET owner_id = (SELECT a.user_id FROM account_aliases a WHERE a.id = oauth_grants.owner_id)
    WHERE owner_type = 'personal' AND owner_id IN (SELECT id FROM account_aliases);
UPDATE resources SET account_id = (SELECT a.user_id FROM account_aliases a WHERE a.id = resources.account_id)
    WHERE account_id IN (SELECT id FROM account_aliases);
UPDATE account_authorizations SET account_id = (SELECT a.user_id FROM account_aliases a WHERE a.id = account_authorizations.account_id)
    WHERE account_id IN (SELECT id FROM account_aliases);
UPDATE audit_events SET target_id = (SELECT a.user_id FROM account_aliases a WHERE a.id = audit_events.target_id)
    WHERE target_type = 'account' AND target_id IN (SELECT id FROM account_aliases);
UPDATE users SET account_id = id WHERE account_id <> id;
