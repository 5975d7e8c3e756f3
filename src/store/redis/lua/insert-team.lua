-- KEYS[1] team hash, KEYS[2] team index
-- ARGV[1] id, ARGV[2] data JSON, ARGV[3] libraries JSON, ARGV[4] created-at ms
-- Returns 1 when created, 0 when the id is taken.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'libraries', ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
return 1
