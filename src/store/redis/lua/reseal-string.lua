-- KEYS[1] a record stored as one string (a DCR entry, a vault entry)
-- ARGV[1] the value the caller read, ARGV[2] the same record with its secrets sealed again
-- Returns 1 when replaced (its expiry kept), 0 when the record is gone or
-- changed since the caller read it (a new registration, a refresh, another
-- replica's re-seal): nothing written, so that newer write stands.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
