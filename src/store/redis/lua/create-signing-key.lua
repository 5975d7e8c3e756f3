-- KEYS[1] key hash, KEYS[2] key index, KEYS[3] active-key pointer
-- ARGV[1] kid, ARGV[2] data JSON, ARGV[3] created-at ms
-- Returns 1 when created (and now the active key), 0 when the kid is taken.
-- Moving the pointer is what demotes the previous active key to verify-only.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'data', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('SET', KEYS[3], ARGV[1])
return 1
