-- cozeauth schema, version 4: a token keeps the workspace scope granted when
-- it was issued, so a later consent by the same user (which updates the one
-- grant per app, user and account) does not change tokens issued before it.
-- Tokens issued before this version get all workspaces of their account,
-- bounded as before by the account and, for OBO, the user's memberships.
ALTER TABLE oauth_tokens ADD COLUMN all_workspaces BIGINT NOT NULL DEFAULT 1;
ALTER TABLE oauth_tokens ADD COLUMN workspace_ids TEXT NOT NULL DEFAULT '[]';
