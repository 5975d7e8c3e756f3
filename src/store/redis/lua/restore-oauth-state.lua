-- KEYS[1] consumed OAuth flow; ARGV[1] the marker its consumption left; ARGV[2] the flow's JSON
-- Puts the flow back only while the key still holds that very marker: not
-- after it expired, nor after another consumption's restore. KEEPTTL leaves
-- the flow the lifetime it had left.
-- Returns 1 when the flow was put back, 0 otherwise.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
