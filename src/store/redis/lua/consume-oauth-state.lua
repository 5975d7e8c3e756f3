-- KEYS[1] pending OAuth flow; ARGV[1] the marker a consumed flow is replaced with ('consumed:<claim>')
-- Returns {'unknown'} when there is no such flow (or it expired), {'used'}
-- when it was consumed before, {'flow', json} when this call consumed it.
-- The marker keeps the flow's TTL, so a replay within its lifetime is told apart.
-- Every marker starts with 'consumed' (a bare 'consumed' from before claims too); no flow JSON does.
local value = redis.call('GET', KEYS[1])
if not value then
  return {'unknown'}
end
if string.sub(value, 1, 8) == 'consumed' then
  return {'used'}
end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
return {'flow', value}
