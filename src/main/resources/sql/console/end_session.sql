-- Ends a console session for every worker (log out): kept until the session would have expired, when
-- it is refused by its signature anyway. Sessions past their expiry are cleared out in the same statement.
WITH cleared AS (DELETE FROM console_ended_sessions WHERE expires_at < now())
INSERT INTO console_ended_sessions (session_hash, expires_at)
VALUES (:sessionHash, :expiresAt)
ON CONFLICT (session_hash) DO NOTHING
