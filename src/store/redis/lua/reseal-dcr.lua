-- KEYS[1] DCR entry
-- ARGV[1] the entry JSON the caller read, ARGV[2] the same entry with its secrets sealed again
-- Returns 1 when replaced (its eviction time kept), 0 when the entry is gone
-- or changed since the caller read it (a new registration, another replica's
-- re-seal): nothing written.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
