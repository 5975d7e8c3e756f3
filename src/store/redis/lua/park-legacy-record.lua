-- KEYS[1] a record in the first layout (release 1), KEYS[2] where it is parked while it moves (same slot)
-- Returns 1 when KEYS[2] holds a record to move (just parked, or left
-- parked by an interrupted run), 0 when there is none. Renaming in one step
-- means a first-release replica that revokes or touches the record
-- afterwards finds no record (and says so) rather than writing to a copy
-- that is about to be dropped.
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RENAME', KEYS[1], KEYS[2])
end
return redis.call('EXISTS', KEYS[2])
