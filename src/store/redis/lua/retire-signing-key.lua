-- KEYS[1] key hash, KEYS[2] active-key pointer; ARGV[1] kid, ARGV[2] retired-at ms
-- ARGV[3] invalidation channel, ARGV[4] its message for this key
-- Returns the key's fields when this call retired it, nil
-- when there is no such key or it was retired already.
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'retired_at') == 1 then
  return nil
end
redis.call('HSET', KEYS[1], 'retired_at', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return redis.call('HGETALL', KEYS[1])
