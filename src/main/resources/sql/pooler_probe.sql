-- Run a few times on one connection (Pooler): more than one backend pid means a pooler in
-- transaction mode moves the connection's transactions between server backends.
SELECT pg_backend_pid(), inet_server_port()
