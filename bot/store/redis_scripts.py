"""Lua scripts for the operations that must read and write Redis atomically.

Each script names every key it touches in KEYS so it also runs where keys are checked
(Redis Cluster with hash tags in the prefix, ACL key patterns). Times come from the server's
clock (TIME), so replicas with skewed clocks agree on leases, rate limits and paces.
"""

from __future__ import annotations

_NOW_MS = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
"""

# Incidents ---------------------------------------------------------------------------------

# KEYS: document, group, open set, open sequence, timeline, firing, received.
# ARGV: incident id, document.
_OPEN_INCIDENT_BODY = """
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), ARGV[1])
end
redis.call('PERSIST', KEYS[5])
redis.call('PERSIST', KEYS[6])
redis.call('PERSIST', KEYS[7])
return ARGV[1]
"""

OPEN_INCIDENT = _OPEN_INCIDENT_BODY

# Same keys and arguments as OPEN_INCIDENT; returns the id that owns the group.
CREATE_INCIDENT_IF_ABSENT = (
    """
local owner = redis.call('GET', KEYS[2])
if owner then
  return owner
end
"""
    + _OPEN_INCIDENT_BODY
)

# KEYS: document, group, open set, timeline, firing, received.
# ARGV: incident id, document, retention ms.
RESOLVE_INCIDENT = """
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
redis.call('PEXPIRE', KEYS[4], ARGV[3])
redis.call('PEXPIRE', KEYS[5], ARGV[3])
redis.call('PEXPIRE', KEYS[6], ARGV[3])
return 1
"""

# The timeline (or an alert set) lives exactly as long as its incident document.
_SAME_LIFETIME = """
local function same_lifetime(key, document)
  local ttl = redis.call('PTTL', document)
  if ttl > 0 then
    redis.call('PEXPIRE', key, ttl)
  else
    redis.call('PERSIST', key)
  end
end
"""

# KEYS: timeline, document. ARGV: entry.
APPEND_TIMELINE = (
    _SAME_LIFETIME
    + """
redis.call('RPUSH', KEYS[1], ARGV[1])
same_lifetime(KEYS[1], KEYS[2])
return 1
"""
)

# KEYS: firing hash, received set, document.
# ARGV: n, then n (fingerprint, start) pairs, then the cleared fingerprints.
UPDATE_FIRING = (
    _SAME_LIFETIME
    + """
local pairs_end = 1 + 2 * tonumber(ARGV[1])
for i = 2, pairs_end, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  redis.call('SADD', KEYS[2], ARGV[i])
end
for i = pairs_end + 1, #ARGV do
  redis.call('HDEL', KEYS[1], ARGV[i])
end
for _, key in ipairs({KEYS[1], KEYS[2]}) do
  if redis.call('EXISTS', key) == 1 then
    same_lifetime(key, KEYS[3])
  end
end
return {redis.call('HLEN', KEYS[1]), redis.call('SCARD', KEYS[2])}
"""
)

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

# Locks, leases and work -------------------------------------------------------------------

# KEYS: lock. ARGV: token.
RELEASE_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# KEYS: lock. ARGV: token, ttl ms.
EXTEND_LOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

# KEYS: work hash, once claim. ARGV: item, document, "1" to claim once, once ttl ms.
REGISTER_WORK = """
if ARGV[3] == '1' and not redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[4]) then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
"""

# KEYS: work hash. ARGV: item, document.
FINISH_WORK = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
"""

# Small values -----------------------------------------------------------------------------

# A sliding window of the times slots were taken. KEYS: window zset.
# ARGV: runs, window ms, unique member. Returns 0, or the ms until a slot frees up.
TAKE_RATE_SLOT = (
    _NOW_MS
    + """
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(window))
  return '0'
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(math.max(1, tonumber(oldest[2]) + window - now))
"""
)

# KEYS: members zset. ARGV: member, keep ms, most members.
TOUCH_MEMBER = (
    _NOW_MS
    + """
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -1 - tonumber(ARGV[3]))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
)

# KEYS: members zset. ARGV: keep ms.
RECENT_MEMBERS = (
    _NOW_MS
    + """
return redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', now - tonumber(ARGV[1]))
"""
)

# The generic cell rate algorithm as a reservation: `tat` is when the pace is next free of
# debt; a turn may start `burst - 1` intervals before it, and never before `hold`.
# KEYS: pace hash. ARGV: interval ms, burst. Returns the ms to wait before the reserved turn.
RESERVE_PACE = (
    _NOW_MS
    + """
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0')
local hold = tonumber(redis.call('HGET', KEYS[1], 'hold') or '0')
tat = math.max(tat, now, hold)
local start = math.max(now, hold, tat - (tonumber(ARGV[2]) - 1) * interval)
local next_tat = tat + interval
redis.call('HSET', KEYS[1], 'tat', string.format('%.3f', next_tat))
redis.call('PEXPIRE', KEYS[1], math.ceil(next_tat - now + interval))
return string.format('%.3f', start - now)
"""
)

# KEYS: pace hash. ARGV: hold ms.
HOLD_PACE = (
    _NOW_MS
    + """
local hold = now + tonumber(ARGV[1])
local current = tonumber(redis.call('HGET', KEYS[1], 'hold') or '0')
if hold > current then
  redis.call('HSET', KEYS[1], 'hold', string.format('%.3f', hold))
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[1]) + 1000 then
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[1]) + 1000))
end
return 1
"""
)
