"""Lua scripts for the operations that must read and write Redis atomically.

Each script names every key it touches in KEYS so it also runs where keys are checked
(Redis Cluster with hash tags in the prefix, ACL key patterns).
"""

from __future__ import annotations

# KEYS: document, group, open set, open sequence, timeline. ARGV: incident id, document.
_OPEN_INCIDENT_BODY = """
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[1])
if not redis.call('ZSCORE', KEYS[3], ARGV[1]) then
  redis.call('ZADD', KEYS[3], redis.call('INCR', KEYS[4]), ARGV[1])
end
redis.call('PERSIST', KEYS[5])
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

# KEYS: document, group, open set, timeline. ARGV: incident id, document, retention in ms.
RESOLVE_INCIDENT = """
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZREM', KEYS[3], ARGV[1])
if redis.call('GET', KEYS[2]) == ARGV[1] then
  redis.call('DEL', KEYS[2])
end
redis.call('PEXPIRE', KEYS[4], ARGV[3])
return 1
"""

# The timeline lives exactly as long as its incident document.
# KEYS: timeline, document. ARGV: entry.
APPEND_TIMELINE = """
redis.call('RPUSH', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[2])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  redis.call('PERSIST', KEYS[1])
end
return 1
"""

# KEYS: queue (sorted set scored by sequence), items hash, sequence. ARGV: item.
OUTBOX_PUSH = """
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], id, ARGV[1])
redis.call('ZADD', KEYS[1], id, id)
return tostring(id)
"""

# Leases are "<deadline ms> <consumer>" in a hash, compared with the server's clock so workers
# with skewed clocks agree on when a lease has expired.
# KEYS: queue, items hash, leases hash. ARGV: consumer, lease ms, limit.
OUTBOX_CLAIM = """
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local lease = string.format('%d %s', now + tonumber(ARGV[2]), ARGV[1])
local wanted = tonumber(ARGV[3])
local claimed = {}
local start = 0
while #claimed < wanted * 2 do
  local ids = redis.call('ZRANGE', KEYS[1], start, start + 99)
  if #ids == 0 then
    break
  end
  for _, id in ipairs(ids) do
    local held = redis.call('HGET', KEYS[3], id)
    if (not held) or tonumber(string.match(held, '^%d+')) <= now then
      redis.call('HSET', KEYS[3], id, lease)
      claimed[#claimed + 1] = id
      claimed[#claimed + 1] = redis.call('HGET', KEYS[2], id)
      if #claimed >= wanted * 2 then
        break
      end
    end
  end
  start = start + 100
end
return claimed
"""

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
