-- A full audit log (issue 11.18): who acted (user, CLI or system), from which
-- client IP and request, and which enterprise the target belongs to (so its
-- admins can read the event).
ALTER TABLE audit_events ADD COLUMN actor_type TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN enterprise_id TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN ip TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN logid TEXT NOT NULL DEFAULT '';
CREATE INDEX audit_events_actor ON audit_events (actor_id, at);
CREATE INDEX audit_events_enterprise ON audit_events (enterprise_id, at);
CREATE INDEX audit_events_action ON audit_events (action, at);
