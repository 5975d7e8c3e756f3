-- KEYS[1] token hash; ARGV[1] used-at ms
-- Only an existing token is touched, so a use racing a deletion cannot
-- leave a fragment behind.
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1])
end
return 0
