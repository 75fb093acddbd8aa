"""Lua scripts for the outbox's lanes, slots and attempt markers (see `redis_scripts`)."""

from __future__ import annotations

from bot.store.redis_scripts import NOW_MS as _NOW_MS

# Outbox lanes ------------------------------------------------------------------------------

# Appends to a lane (stream KEYS[s], index KEYS[i]); creates the stream and its group if needed.
_APPEND = """
local function append(stream, index, group, item, requeues, not_before, lane)
  if redis.call('EXISTS', stream) == 0 then
    redis.call('XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM')
  end
  local id = redis.call('XADD', stream, '*', 'op', item, 'requeues', requeues,
                        'not_before', not_before)
  redis.call('ZADD', index, 'NX', math.floor(now), lane)
  return id
end
"""

# KEYS: stream, index. ARGV: group, item, lane.
ENQUEUE = (
    _NOW_MS
    + _APPEND
    + """
return append(KEYS[1], KEYS[2], ARGV[1], ARGV[2], '0', '0', ARGV[3])
"""
)

# A pending sync older than this is assumed lost and queued again (a second sync is harmless).
_STALE_PENDING_MS = 10 * 60 * 1000

# KEYS: slot, stream, index. ARGV: group, content, item, lane, ttl ms.
WRITE_SLOT = (
    _NOW_MS
    + _APPEND
    + f"""
redis.call('HSET', KEYS[1], 'content', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
if redis.call('HEXISTS', KEYS[1], 'failed') == 1 then
  return 0
end
local pending = tonumber(redis.call('HGET', KEYS[1], 'pending') or '0')
if pending > 0 and now - pending < {_STALE_PENDING_MS} then
  return 0
end
redis.call('HSET', KEYS[1], 'pending', math.floor(now))
append(KEYS[2], KEYS[3], ARGV[1], ARGV[3], '0', '0', ARGV[4])
return 1
"""
)

# KEYS: slot, stream, index. ARGV: group, entry id, version shown, item, lane.
FINISH_SLOT_SYNC = (
    _NOW_MS
    + _APPEND
    + """
redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[2], ARGV[2])
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 1
end
local shown = tonumber(ARGV[3])
if shown > tonumber(redis.call('HGET', KEYS[1], 'synced') or '0') then
  redis.call('HSET', KEYS[1], 'synced', shown)
end
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if current <= shown or redis.call('HEXISTS', KEYS[1], 'failed') == 1 then
  redis.call('HDEL', KEYS[1], 'pending')
  return 1
end
redis.call('HSET', KEYS[1], 'pending', math.floor(now))
append(KEYS[2], KEYS[3], ARGV[1], ARGV[4], '0', '0', ARGV[5])
return 0
"""
)

# KEYS: stream, lane owner. ARGV: token, group, consumer, limit.
# Returns nil when the token does not own the lane, else {taken_over, entries}: the consumer's
# own unacknowledged entries first, then a previous owner's, then new ones.
FETCH_LANE = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return false
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0, {}}
end
local own = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4],
                       'STREAMS', KEYS[1], '0')
if own and #own[1][2] > 0 then
  return {0, own[1][2]}
end
local claimed = redis.call('XAUTOCLAIM', KEYS[1], ARGV[2], ARGV[3], 0, '0-0', 'COUNT', ARGV[4])
if #claimed[2] > 0 then
  return {1, claimed[2]}
end
local fresh = redis.call('XREADGROUP', 'GROUP', ARGV[2], ARGV[3], 'COUNT', ARGV[4],
                         'STREAMS', KEYS[1], '>')
if fresh then
  return {0, fresh[1][2]}
end
return {0, {}}
"""

# KEYS: stream, index. ARGV: group, entry id, item, requeues, not before, lane.
REQUEUE_ENTRY = (
    _NOW_MS
    + _APPEND
    + """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return append(KEYS[1], KEYS[2], ARGV[1], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
"""
)

# KEYS: op record, lane owner. ARGV: token, attempt, expected marker, consumer, ttl ms.
# Returns {0} when the token lost the lane, {2, marker} for another consumer's unexpected
# marker, {1} when written.
MARK_ATTEMPT = """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then
  return {0}
end
local current = redis.call('HGET', KEYS[1], 'attempt') or ''
if current ~= '' and current ~= ARGV[3] and string.match(current, ' (.*)$') ~= ARGV[4] then
  return {2, current}
end
redis.call('HSET', KEYS[1], 'attempt', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return {1}
"""

# KEYS: stream, dead-letter list. ARGV: group, entry id, record, how many records to keep.
DEAD_LETTER = """
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
redis.call('LPUSH', KEYS[2], ARGV[3])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
return 1
"""

# KEYS: stream, index, lane owner. ARGV: token, lane.
RETIRE_LANE = """
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return 0
end
if redis.call('EXISTS', KEYS[1]) == 1 and redis.call('XLEN', KEYS[1]) > 0 then
  return 0
end
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3])
return 1
"""
