-- KEYS[1] DCR entry, KEYS[2] its registration lease
-- ARGV[1] entry JSON, ARGV[2] TTL ms (0 = none), ARGV[3] caller's lease id ('' = none)
-- A caller that names a lease must still hold it: a registrant whose lease
-- expired (and maybe passed to another) must not replace the newer entry.
-- Returns 0 when written without a lease, 1 when written and the lease
-- released, -1 when the lease is not the caller's (nothing written).
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[3] then
  return -1
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
if ARGV[3] ~= '' then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
