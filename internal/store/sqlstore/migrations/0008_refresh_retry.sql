-- cozeauth schema, version 8: a rotated refresh token keeps, for a short
-- window, the new pair sealed under a key only its holder can derive (so a
-- client whose answer was lost can retry), and the refresh token it rotated
-- to. Same dialect rules as 0001.
ALTER TABLE oauth_tokens ADD COLUMN retry_blob TEXT NOT NULL DEFAULT '';
ALTER TABLE oauth_tokens ADD COLUMN rotated_to TEXT NOT NULL DEFAULT '';
