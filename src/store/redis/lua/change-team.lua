-- KEYS[1] team hash; ARGV[1] field, ARGV[2] value, ARGV[3] "active" to require an active team
-- ARGV[4] invalidation channel, ARGV[5] its message for this team
-- Sets one field of an existing team (of an active one, when asked) and
-- returns the team's fields; nil when there is no such (active) team.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return nil
end
if ARGV[3] == 'active' and redis.call('HEXISTS', KEYS[1], 'deactivated_at') == 1 then
  return nil
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[4], ARGV[5])
return redis.call('HGETALL', KEYS[1])
