"""Lua for the micro-batcher: each call is atomic, so no crash can half-move items.

Pending entries are ``"<seq>:<added_ms>:<attempts>:<json>"``: ``seq`` (from INCRBY) makes
every added item unique even when two carry the same payload, ``added_ms`` is Redis' own
clock (one clock for all producers and workers).
"""

# KEYS: pending, seq, dedupe (or ""). ARGV: dedupe_ttl_s, then one JSON document per item.
# Returns the pending length, or -1 when the dedupe key was already set (nothing added).
ADD = """
if KEYS[3] ~= '' then
  if not redis.call('set', KEYS[3], '1', 'NX', 'EX', ARGV[1]) then return -1 end
end
local t = redis.call('time')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local count = #ARGV - 1
local first = redis.call('incrby', KEYS[2], count) - count
local entries = {}
for i = 1, count do
  entries[#entries + 1] = (first + i) .. ':' .. now .. ':0:' .. ARGV[i + 1]
  if #entries == 500 then
    redis.call('rpush', KEYS[1], unpack(entries))
    entries = {}
  end
end
if #entries > 0 then redis.call('rpush', KEYS[1], unpack(entries)) end
return redis.call('llen', KEYS[1])
"""

# KEYS: pending, open, stats, queue list, queue msgs hash.
# ARGV: size, max_age_ms, batch key prefix, then (batch_id, redis_message_id, message) triples.
# For each triple, while the head of pending is a full batch or old enough: move up to
# `size` entries into the hash <prefix><batch_id> (seq -> entry) and put the batch job on
# the queue exactly as Dramatiq's dispatch.lua "enqueue" does. Returns triples used.
FLUSH = """
local size, max_age, prefix = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local t = redis.call('time')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local used = 0
for i = 4, #ARGV, 3 do
  local n = redis.call('llen', KEYS[1])
  if n == 0 then break end
  local reason = 'size'
  if n < size then
    local head = redis.call('lindex', KEYS[1], 0)
    local added = tonumber(string.match(head, '^%d+:(%d+):') or '0')
    if now - added < max_age then break end
    reason = 'age'
  end
  local entries = redis.call('lrange', KEYS[1], 0, size - 1)
  redis.call('ltrim', KEYS[1], #entries, -1)
  local key = prefix .. ARGV[i]
  redis.call('hset', key, '_reason', reason, '_flushed', now)
  for j, entry in ipairs(entries) do
    -- an entry that is not ours (written by hand) keeps a unique field; the job dead-letters it
    redis.call('hset', key, string.match(entry, '^(%d+):') or ('bad' .. j), entry)
  end
  redis.call('zadd', KEYS[2], now, ARGV[i])
  redis.call('hincrby', KEYS[3], 'flushed_' .. reason, 1)
  redis.call('hincrby', KEYS[3], 'items_flushed', #entries)
  redis.call('hset', KEYS[5], ARGV[i + 1], ARGV[i + 2])
  redis.call('rpush', KEYS[4], ARGV[i + 1])
  used = used + 1
end
return used
"""

# KEYS: lease. ARGV: token. Deletes the lease only if this run still holds it.
RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
