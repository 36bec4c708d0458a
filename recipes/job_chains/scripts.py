"""Lua for the chain state: each transition is one atomic call, so concurrent steps,
a compensation and a late branch can never leave a half-written or contradictory state.

Chain hash fields: ``status``, ``order``, ``created_ms``, ``updated_ms``, ``finished_ms``,
``failed_step``, ``error``, ``compensation_error``, ``step:<name>:status|output|attempts|error``.
"""

# KEYS: state, all, running, history. ARGV: order json, now, deadline ms, chain id, event.
CREATE = """
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('hset', KEYS[1], 'status', 'running', 'order', ARGV[1], 'created_ms', ARGV[2],
           'updated_ms', ARGV[2])
redis.call('zadd', KEYS[2], ARGV[2], ARGV[4])
redis.call('zadd', KEYS[3], ARGV[3], ARGV[4])
redis.call('rpush', KEYS[4], ARGV[5])
return 1
"""

# KEYS: state, history, running, arrived.
# ARGV: step, output json, now, finish ('1' completes the chain), ttl, chain id, event.
# Returns the chain status after the call.
STEP_DONE = """
redis.call('hset', KEYS[1], 'step:' .. ARGV[1] .. ':status', 'done',
           'step:' .. ARGV[1] .. ':output', ARGV[2], 'updated_ms', ARGV[3])
redis.call('rpush', KEYS[2], ARGV[7])
local status = redis.call('hget', KEYS[1], 'status')
if ARGV[4] == '1' and status == 'running' then
  status = 'completed'
  redis.call('hset', KEYS[1], 'status', status, 'finished_ms', ARGV[3])
  redis.call('zrem', KEYS[3], ARGV[6])
  for i = 1, 4 do if i ~= 3 then redis.call('expire', KEYS[i], ARGV[5]) end end
end
return status
"""

# KEYS: state, history. ARGV: failed step, reason, now, event.
# Returns the status before the call. Only a running chain starts compensating; the reason
# of the first failure is kept.
BEGIN_COMPENSATION = """
local status = redis.call('hget', KEYS[1], 'status')
if status == 'running' then
  redis.call('hset', KEYS[1], 'status', 'compensating', 'failed_step', ARGV[1],
             'error', ARGV[2], 'updated_ms', ARGV[3])
  local step_status = redis.call('hget', KEYS[1], 'step:' .. ARGV[1] .. ':status')
  if step_status ~= 'done' and step_status ~= 'compensated' then
    redis.call('hset', KEYS[1], 'step:' .. ARGV[1] .. ':status', 'failed')
  end
  redis.call('rpush', KEYS[2], ARGV[4])
end
return status
"""

# KEYS: state, history, running, arrived. ARGV: now, ttl, chain id, event, compensation error.
# Ends a compensating (or running) chain as failed.
FINISH_FAILED = """
local status = redis.call('hget', KEYS[1], 'status')
if status ~= 'compensating' and status ~= 'running' then return status end
redis.call('hset', KEYS[1], 'status', 'failed', 'finished_ms', ARGV[1], 'updated_ms', ARGV[1])
if ARGV[5] ~= '' then redis.call('hset', KEYS[1], 'compensation_error', ARGV[5]) end
redis.call('rpush', KEYS[2], ARGV[4])
redis.call('zrem', KEYS[3], ARGV[3])
for i = 1, 4 do if i ~= 3 then redis.call('expire', KEYS[i], ARGV[2]) end end
return 'failed'
"""
