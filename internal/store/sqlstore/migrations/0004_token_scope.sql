-- cozeauth schema, version 4: a token keeps the workspace scope of its grant
-- at issue, so a later, wider consent by the same user does not widen tokens
-- issued before it (the token reaches the grant's workspaces ∩ these). Tokens
-- issued before this version keep following their grant.
ALTER TABLE oauth_tokens ADD COLUMN all_workspaces BIGINT NOT NULL DEFAULT 1;
ALTER TABLE oauth_tokens ADD COLUMN workspace_ids TEXT NOT NULL DEFAULT '[]';
