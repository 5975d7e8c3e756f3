-- KEYS[1] DCR entry, KEYS[2] its registration lease
-- ARGV[1] new lease id, ARGV[2] lease TTL ms, ARGV[3] now (Unix ms)
-- Returns {'entry', json} when an entry with an unexpired secret exists,
-- {'lease', id} when this call took the lease, {'held', remaining ms} when
-- another lease is in force. An unreadable entry is returned as it is, for
-- the caller to report.
local value = redis.call('GET', KEYS[1])
if value then
  local ok, decoded = pcall(cjson.decode, value)
  local expires = 0
  if ok and type(decoded) == 'table' then
    expires = tonumber(decoded['client_secret_expires_at']) or 0
  end
  if expires == 0 or expires * 1000 > tonumber(ARGV[3]) then
    return {'entry', value}
  end
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {'lease', ARGV[1]}
end
return {'held', redis.call('PTTL', KEYS[2])}
