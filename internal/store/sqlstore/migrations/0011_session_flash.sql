-- cozeauth schema, version 11: a session holds at most one one-time flash, a
-- page that shows a secret once (a new token, client secret or private key).
-- The creating POST stores it and redirects; the GET that follows takes it,
-- so reloading the page cannot create another secret (POST/redirect/GET).
-- The flash is sealed under a key derived from the session cookie, which the
-- database never holds, so a database row reveals nothing. Same dialect rules
-- as 0001.
ALTER TABLE sessions ADD COLUMN flash TEXT NOT NULL DEFAULT '';
