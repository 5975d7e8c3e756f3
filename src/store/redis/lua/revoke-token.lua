-- KEYS[1] token hash; ARGV[1] revoked-at ms
-- Returns the token's fields when this call revoked it, nil when there is no
-- such token or it was revoked already.
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revoked_at') == 1 then
  return nil
end
redis.call('HSET', KEYS[1], 'revoked_at', ARGV[1])
return redis.call('HGETALL', KEYS[1])
