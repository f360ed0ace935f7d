-- Gives back the lease of a call that ended, with the tokens it used (NULL: the reservation stands);
-- holdMs (NULL: none): the provider asked for no call before then (a 429's retry-after); sentAgoMs
-- (NULL: not known): how long ago its request was all sent, when the provider counted its tokens.
SELECT release_api_capacity(:lease, :tokens, :holdMs, :sentAgoMs)
