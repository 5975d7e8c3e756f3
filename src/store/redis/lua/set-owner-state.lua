-- KEYS[1] owner hash; ARGV[1] "deactivate" or "reactivate", ARGV[2] at (ms), ARGV[3] changed-by (token id)
-- ARGV[4] invalidation channel, ARGV[5] its message for this owner
-- Returns the owner's fields when this call changed its state, nil when it
-- was already so. Publishing here, with the write, leaves no moment in which
-- the state is stored but a replica's cache still holds the old one.
local deactivated = redis.call('HEXISTS', KEYS[1], 'deactivated_at') == 1
local deactivate = ARGV[1] == 'deactivate'
if deactivate == deactivated then
  return nil
end
if deactivate then
  redis.call('HSET', KEYS[1], 'deactivated_at', ARGV[2])
else
  redis.call('HDEL', KEYS[1], 'deactivated_at')
end
redis.call('HSET', KEYS[1], 'changed_at', ARGV[2], 'changed_by', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return redis.call('HGETALL', KEYS[1])
