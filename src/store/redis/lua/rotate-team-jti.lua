-- KEYS[1] team hash; ARGV[1] the active jti the caller read ('' = none yet), ARGV[2] the new jti
-- ARGV[3] invalidation channel, ARGV[4] its message for this team
-- Makes ARGV[2] the active jti of an active team, only while ARGV[1] still is:
-- of concurrent mints that read the same jti, exactly one wins.
-- Returns the team's fields; nil when there is no such active team; 0 when another rotation came first.
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'deactivated_at') == 1 then
  return nil
end
if (redis.call('HGET', KEYS[1], 'active_jti') or '') ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'active_jti', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return redis.call('HGETALL', KEYS[1])
