-- KEYS[1] bootstrap marker; ARGV[1] the bootstrap token's id
-- Returns 1 when this call claimed the bootstrap (the caller then inserts
-- the token), 0 when it was claimed before. The token lives in a slot of its
-- own, so marker and token cannot be written by one script on a Cluster;
-- claiming first means a crash in between leaves no root token rather than
-- an unannounced one.
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  return 1
end
return 0
