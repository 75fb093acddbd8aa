"""Lua scripts for the operations that must read and write Redis atomically.

Each script names every key it touches in KEYS so it also runs where keys are checked
(Redis Cluster with hash tags in the prefix, ACL key patterns). Times come from the server's
clock (TIME), so replicas with skewed clocks agree on leases, rate limits and paces.
"""

from __future__ import annotations

NOW_MS = """
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
    NOW_MS
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
    NOW_MS
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
    NOW_MS
    + """
return redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', now - tonumber(ARGV[1]))
"""
)

# The generic cell rate algorithm as a reservation: `tat` is when the pace is next free of
# debt; a turn may start `burst - 1` intervals before it, and never before `hold`.
# KEYS: pace hash. ARGV: interval ms, burst. Returns the ms to wait before the reserved turn.
RESERVE_PACE = (
    NOW_MS
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
    NOW_MS
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
