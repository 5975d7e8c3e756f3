-- KEYS[1] team hash; ARGV[1] the jti to clear
-- ARGV[2] invalidation channel, ARGV[3] its message for this team
-- Removes the team's active jti only while it is still ARGV[1], so a token
-- that another one replaced meanwhile leaves the new one in force.
-- Returns 1 when cleared, 0 otherwise.
if redis.call('HGET', KEYS[1], 'active_jti') == ARGV[1] then
  redis.call('HDEL', KEYS[1], 'active_jti')
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0
