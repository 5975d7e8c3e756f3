-- KEYS[1] pending OAuth flow; ARGV[1] the marker a consumed flow is replaced with
-- Returns {'unknown'} when there is no such flow (or it expired), {'used'}
-- when it was consumed before, {'flow', json} when this call consumed it.
-- The marker keeps the flow's TTL, so a replay within its lifetime is told apart.
local value = redis.call('GET', KEYS[1])
if not value then
  return {'unknown'}
end
if value == ARGV[1] then
  return {'used'}
end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
return {'flow', value}
