-- KEYS[1] key hash
-- ARGV[1] the data JSON the caller read, ARGV[2] the same key with its secret sealed again
-- ARGV[3] invalidation channel, ARGV[4] its message for this key
-- Returns 1 when replaced, 0 when the key is gone or its data changed since
-- the caller read it (another replica re-sealed it first): nothing written.
if redis.call('HGET', KEYS[1], 'data') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'data', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
