-- KEYS[1] token hash; ARGV[1] "deactivate" or "reactivate", ARGV[2] at (ms)
-- ARGV[3] invalidation channel, ARGV[4] its message for this token
-- Returns the token's fields when this call changed its state; nil when there
-- is no such token, it is revoked (for good), or it was already so.
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then
  return nil
end
local deactivate = ARGV[1] == 'deactivate'
if deactivate == (redis.call('HEXISTS', KEYS[1], 'deactivated_at') == 1) then
  return nil
end
if deactivate then
  redis.call('HSET', KEYS[1], 'deactivated_at', ARGV[2])
else
  redis.call('HDEL', KEYS[1], 'deactivated_at')
end
redis.call('PUBLISH', ARGV[3], ARGV[4])
return redis.call('HGETALL', KEYS[1])
