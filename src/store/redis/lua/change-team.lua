-- KEYS[1] team hash; ARGV[1] field, ARGV[2] value, ARGV[3] "active" to require an active team
-- Sets one field of an existing team (of an active one, when asked) and
-- returns the team's fields; nil when there is no such (active) team.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return nil
end
if ARGV[3] == 'active' and redis.call('HEXISTS', KEYS[1], 'deactivated_at') == 1 then
  return nil
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return redis.call('HGETALL', KEYS[1])
