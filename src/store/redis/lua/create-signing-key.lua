-- KEYS[1] key hash, KEYS[2] key index, KEYS[3] active-key pointer
-- ARGV[1] kid, ARGV[2] data JSON, ARGV[3] created-at ms
-- ARGV[4] invalidation channel, ARGV[5] the message prefix of a key (followed by its kid)
-- Returns 1 when created (and now the active key), 0 when the kid is taken.
-- Moving the pointer is what demotes the previous active key to verify-only,
-- which is announced as a change of that key.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local previous = redis.call('GET', KEYS[3])
redis.call('HSET', KEYS[1], 'data', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('SET', KEYS[3], ARGV[1])
if previous then
  redis.call('PUBLISH', ARGV[4], ARGV[5] .. previous)
end
return 1
