-- KEYS[1] DCR entry, KEYS[2] its registration lease
-- ARGV[1] entry JSON, ARGV[2] TTL ms (0 = none), ARGV[3] caller's lease id ('' = none)
-- Writes the entry; releases the lease when the caller holds it.
-- Returns 1 when the lease was released, 0 otherwise.
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[1])
end
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then
  redis.call('DEL', KEYS[2])
  return 1
end
return 0
