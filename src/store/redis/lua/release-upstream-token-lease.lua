-- KEYS[1] a vault entry's refresh lease
-- ARGV[1] the caller's lease id
-- Ends the lease only while it is still the caller's: a lapsed one may be another replica's by now.
-- Returns 1 when released, 0 otherwise.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
