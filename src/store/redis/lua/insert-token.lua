-- KEYS[1] token hash, KEYS[2] token index; ARGV[1] id, ARGV[2] data JSON, ARGV[3] created-at ms
-- ARGV[4] invalidation channel, ARGV[5] its message for this token
-- Returns 1 when created, 0 when the id is taken. The message drops the id
-- from every replica's cache of unknown tokens.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'data', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
