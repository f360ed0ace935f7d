-- Whether a console session was ended by a log out (by the SHA-256 of its cookie, never the cookie):
-- 1 if so, 0 if not. Every page of the console asks, so a logged-out cookie works on no worker.
SELECT count(*) FROM console_ended_sessions WHERE session_hash = :sessionHash
