-- KEYS[1] a principal's vault index, KEYS[2..n] vault entries of that principal
-- ARGV[1..n-1] the upstream id of each entry, in the same order
-- Deletes the entries and their index members together.
-- Returns how many entries existed.
local deleted = 0
for index, upstreamId in ipairs(ARGV) do
  deleted = deleted + redis.call('DEL', KEYS[index + 1])
  redis.call('SREM', KEYS[1], upstreamId)
end
return deleted
