-- KEYS[1] token hash; ARGV[1] revoked-at ms
-- ARGV[2] invalidation channel, ARGV[3] its message for this token
-- Returns the token's fields when this call revoked it, nil when there is no
-- such token or it was revoked already. Publishing here, with the write,
-- leaves no moment in which the revocation is stored but not yet announced.
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then
  return nil
end
redis.call('HSET', KEYS[1], 'revoked_at', ARGV[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return redis.call('HGETALL', KEYS[1])
