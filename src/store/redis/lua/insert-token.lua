-- KEYS[1] token hash; ARGV[1] data JSON
-- ARGV[2] invalidation channel, ARGV[3] its message for this token
-- Returns 1 when created, 0 when the id is taken. The message drops the id
-- from every replica's cache of unknown tokens. No index is kept: one would
-- pin every token to one Cluster slot (listing SCANs instead).
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'data', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
