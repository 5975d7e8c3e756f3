-- KEYS[1] bootstrap marker, KEYS[2] token hash, KEYS[3] token index
-- ARGV[1] id, ARGV[2] data JSON, ARGV[3] created-at ms
-- ARGV[4] invalidation channel, ARGV[5] its message for this token
-- Returns 1 when this call created the bootstrap token, 0 when one was created
-- before, -1 when the id is taken by another token.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  return -1
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[2], 'data', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
