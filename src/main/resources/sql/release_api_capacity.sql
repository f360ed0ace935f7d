-- Gives back the lease of a call that ended.
SELECT release_api_capacity(:lease)
