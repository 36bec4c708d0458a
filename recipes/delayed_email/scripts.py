"""The four Lua scripts: each change of an email's schedule is one atomic Redis call.

Every script that puts a message on a queue writes Dramatiq's own layout (see
``dramatiq/brokers/redis/dispatch.lua``, "enqueue"): ``HSET <ns>:<q>.msgs rid payload`` then
``RPUSH <ns>:<q> rid``. The payload is built and encoded by Dramatiq in Python
(``Message.encode()``), so Lua only moves bytes. Writing the record and the message in one
script is what makes schedule, reschedule and promotion crash-safe: there is no moment
where one exists without the other.
"""

# KEYS: records, schedule, outbox, idem key, target list, target msgs hash
# ARGV: mode ("new" | "move"), email id, record JSON, via, due ms, redis message id, message
PUT = """
local state = redis.call('get', KEYS[4])
if state == 'done' then return 'sent' end
if state then return 'sending' end
local exists = redis.call('hexists', KEYS[1], ARGV[2]) == 1
if ARGV[1] == 'new' and exists then return 'exists' end
if ARGV[1] == 'move' and not exists then return 'unknown' end
redis.call('hset', KEYS[1], ARGV[2], ARGV[3])
redis.call('zrem', KEYS[2], ARGV[2])
redis.call('hdel', KEYS[3], ARGV[2])
if ARGV[4] == 'schedule' then
  redis.call('zadd', KEYS[2], ARGV[5], ARGV[2])
  redis.call('hset', KEYS[3], ARGV[2], ARGV[7])
else
  redis.call('hset', KEYS[6], ARGV[6], ARGV[7])
  redis.call('rpush', KEYS[5], ARGV[6])
end
return 'ok'
"""

# KEYS: records, schedule, outbox, idem key. ARGV: email id.
# A copy already on a queue is not chased: the sender finds no record and drops it.
CANCEL = """
local state = redis.call('get', KEYS[4])
if state == 'done' then return 'sent' end
local existed = redis.call('hdel', KEYS[1], ARGV[1])
redis.call('zrem', KEYS[2], ARGV[1])
redis.call('hdel', KEYS[3], ARGV[1])
if existed == 0 then return 'unknown' end
if state then return 'sending' end
return 'cancelled'
"""

# KEYS: schedule, outbox, queue list, queue msgs hash. ARGV: now ms, max emails this pass.
# ZRANGEBYSCORE + ZREM + enqueue in one script: two promoters can never move the same id.
PROMOTE = """
local ids = redis.call('zrangebyscore', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
for _, id in ipairs(ids) do
  redis.call('zrem', KEYS[1], id)
  local message = redis.call('hget', KEYS[2], id)
  if message then
    redis.call('hdel', KEYS[2], id)
    local rid = cjson.decode(message)['options']['redis_message_id']
    redis.call('hset', KEYS[4], rid, message)
    redis.call('rpush', KEYS[3], rid)
  end
end
return #ids
"""
