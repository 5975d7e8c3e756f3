-- KEYS[1] vault entry, KEYS[2] its principal's index (set of upstream ids), KEYS[3] the entry's refresh lease
-- ARGV[1] entry JSON (secrets sealed), ARGV[2] upstream id, ARGV[3] caller's lease id ('' = none)
-- A refresh that names a lease must still hold it: a refresher whose lease
-- lapsed and passed to another must not replace the newer tokens (and the
-- rotated refresh token with them).
-- Returns 1 when written (and the lease released), 0 when the lease is not the caller's (nothing written).
if ARGV[3] ~= '' and redis.call('GET', KEYS[3]) ~= ARGV[3] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('DEL', KEYS[3])
end
return 1
