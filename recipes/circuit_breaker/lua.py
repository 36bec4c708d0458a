"""The three decisions of the breaker, each one Lua script: atomic across every process.

State hash fields: ``state`` (closed | open | half_open), ``gen`` (bumped at each transition,
so a late result from an older period is recognised and ignored), ``open_until`` (ms).
Time is Redis server time (``TIME``), never a worker's clock.
KEYS everywhere: state, failures (zset), probes (zset token -> lease end), log (stream).
"""

_COMMON = """
local t = redis.call('time')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('hmget', KEYS[1], 'state', 'gen', 'open_until')
local state = h[1] or 'closed'
local gen = tonumber(h[2] or '0')
local open_until = tonumber(h[3] or '0')
local function log(event, extra)
  redis.call('xadd', KEYS[4], 'MAXLEN', ARGV[1], '*', 'event', event, 'gen', gen,
    'at_ms', now, 'until_ms', extra or 0)
end
local function open(cooldown_ms)
  gen = gen + 1
  open_until = now + cooldown_ms
  redis.call('hset', KEYS[1], 'state', 'open', 'gen', gen, 'open_until', open_until)
  redis.call('del', KEYS[2], KEYS[3])
  log('opened', open_until)
  return 'open'
end
"""

# ARGV: log maxlen, cooldown ms, probes M, probe lease ms, probe wait ms, token.
# Returns {kind, wait_ms, gen}: kind 'call' | 'probe' | 'wait'.
ACQUIRE = _COMMON + """
if state == 'closed' then return {'call', 0, gen} end
if state == 'open' then
  if now < open_until then return {'wait', open_until - now, gen} end
  gen = gen + 1
  state = 'half_open'
  redis.call('hset', KEYS[1], 'state', state, 'gen', gen)
  redis.call('del', KEYS[3])
  log('half_open')
end
redis.call('zremrangebyscore', KEYS[3], '-inf', now)
if redis.call('zcard', KEYS[3]) < tonumber(ARGV[3]) then
  redis.call('zadd', KEYS[3], now + tonumber(ARGV[4]), ARGV[6])
  redis.call('pexpire', KEYS[3], tonumber(ARGV[4]))
  return {'probe', 0, gen}
end
return {'wait', tonumber(ARGV[5]), gen}
"""

# ARGV: log maxlen, gen of the admission, kind of the admission. Returns the state after.
SUCCESS = _COMMON + """
if ARGV[3] == 'probe' and state == 'half_open' and tonumber(ARGV[2]) == gen then
  gen = gen + 1
  redis.call('hset', KEYS[1], 'state', 'closed', 'gen', gen)
  redis.call('del', KEYS[2], KEYS[3])
  log('closed')
  return 'closed'
end
return state
"""

# ARGV: log maxlen, gen, kind, token, K, window ms, cooldown ms. Returns the state after.
FAILURE = _COMMON + """
if tonumber(ARGV[2]) ~= gen then return state end
if state == 'half_open' and ARGV[3] == 'probe' then return open(tonumber(ARGV[7])) end
if state ~= 'closed' then return state end
redis.call('zadd', KEYS[2], now, ARGV[4])
redis.call('zremrangebyscore', KEYS[2], '-inf', now - tonumber(ARGV[6]))
redis.call('pexpire', KEYS[2], tonumber(ARGV[6]))
if redis.call('zcard', KEYS[2]) >= tonumber(ARGV[5]) then return open(tonumber(ARGV[7])) end
return 'closed'
"""
