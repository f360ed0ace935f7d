-- A new batch, held by the worker gathering it for the lease (a gatherer that dies leaves it to be
-- abandoned by the next follower, its requests gathered again).
INSERT INTO llm_batches (provider, model, endpoint, created_by, followed_by, follow_until)
VALUES (:provider, :model, :endpoint, :workerId, :workerId, now() + make_interval(secs => CAST(:leaseSeconds AS double precision)))
RETURNING id
