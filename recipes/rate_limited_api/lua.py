"""The limiter's three Lua scripts. Times are microseconds from Redis ``TIME``.

A request *occupies* the limiter from its start until ``window`` after its response came
back (``finish``), or until its lease ends when its worker died. The reservation rule keeps
at most ``limit`` occupancies overlapping at any instant, with starts that never go back in
time. Since the server saw each request between its start and its response, any server
window of ``period`` holding ``limit + 1`` requests would mean ``limit + 1`` occupancies
overlap at the latest start among them: impossible. Jitter between start and arrival does
not matter, so the margin only covers clock slew.

``start`` is called when the reserved time has come: if an upstream pause began meanwhile
the reservation is given back, so nothing starts during a pause. The ticket it returns
numbers the requests in start order.
"""

# KEYS: open, done, last, pause, seq. ARGV: limit, window_us, lease_us, max_wait_us, ttl_ms.
# Returns {id, wait_us}: id 0 = nothing reserved (wait too long), -1 = all slots are held
# by unfinished requests (none can free within a window).
RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local lease, max_wait = tonumber(ARGV[3]), tonumber(ARGV[4])
local fmt = function(x) return string.format('%.0f', x) end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', fmt(now))
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', fmt(now))
local start = math.max(now, tonumber(redis.call('GET', KEYS[3]) or '0'),
                       tonumber(redis.call('GET', KEYS[4]) or '0'))
local free = limit - 1 - redis.call('ZCARD', KEYS[1])
if free < 0 then return {-1, window} end
local covering = redis.call('ZCOUNT', KEYS[2], '(' .. fmt(start), '+inf')
if covering > free then
  local e = redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. fmt(start), '+inf', 'WITHSCORES',
                       'LIMIT', covering - free - 1, 1)
  start = tonumber(e[2])
end
local wait = start - now
if wait > max_wait then return {0, wait} end
local id = redis.call('INCR', KEYS[5])
redis.call('ZADD', KEYS[1], fmt(start + lease), id)
redis.call('SET', KEYS[3], fmt(start), 'PX', ARGV[5])
for _, i in ipairs({1, 2, 5}) do redis.call('PEXPIRE', KEYS[i], ARGV[5]) end
return {id, wait}
"""

# KEYS: open, pause, ticket. ARGV: id, ttl_ms. Returns {ticket, 0}, or {0, wait_us} when a
# pause began after the reservation: the slot is given back (no request was sent).
START = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return {0, paused - now}
end
local ticket = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return {ticket, 0}
"""

# KEYS: open, done. ARGV: id, window_us, ttl_ms, ago_us. The response came back ``ago_us``
# before this call (measured by the worker, a duration, so its clock's offset is harmless):
# the slot stays taken for one more window from then.
FINISH = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local ended = now - math.max(0, tonumber(ARGV[4]))
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], string.format('%.0f', ended + tonumber(ARGV[2])), ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1
"""

# KEYS: pause, ticket, pauses. ARGV: pause_us. Never shortens a pause already set.
# Logs {at_us, until_us, ticket}: requests with a higher ticket started after this pause.
PAUSE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local till = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if till > current then
  redis.call('SET', KEYS[1], string.format('%.0f', till), 'PX', math.ceil((till - now) / 1000))
else
  till = current
end
local ticket = tonumber(redis.call('GET', KEYS[2]) or '0')
redis.call('LPUSH', KEYS[3], string.format('{"at_us":%.0f,"until_us":%.0f,"ticket":%.0f}',
                                          now, till, ticket))
redis.call('LTRIM', KEYS[3], 0, 99)
redis.call('PEXPIRE', KEYS[3], math.ceil((till - now) / 1000) + 300000)
return till - now
"""
