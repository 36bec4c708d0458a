"""Per-account mailbox in Redis: an ordered list of events plus the applied ledger.

Why a mailbox and not one message per event: Dramatiq runs messages of one queue on many
threads and processes at once, so two events of one account would race. Here the event
goes into the account's Redis list (order fixed by ``RPUSH`` in one Lua call that also
assigns ``seq``), and the Dramatiq message is only a doorbell saying "drain account X".
Whoever holds the account's lock applies the list head by head.

``apply_head`` is one Lua call that applies the event and pops it together, and skips any
event whose ``seq`` was already applied: a crash anywhere leaves each event applied once.
"""

from __future__ import annotations

import json

import redis

from recipes.fifo_ordered import keys
from recipes.fifo_ordered.models import AccountEvent

_PUSH = """
local seq = redis.call('incr', KEYS[1])
local event = cjson.decode(ARGV[1])
event['seq'] = seq
redis.call('rpush', KEYS[2], cjson.encode(event))
return seq
"""

# KEYS: events, balance, applied, last_seq. Returns seq applied, 0 if empty, -seq if skipped.
_APPLY_HEAD = """
local raw = redis.call('lindex', KEYS[1], 0)
if not raw then return 0 end
local event = cjson.decode(raw)
local last = tonumber(redis.call('get', KEYS[4]) or '0')
redis.call('lpop', KEYS[1])
if event['seq'] <= last then return -event['seq'] end
local delta = event['amount_cents']
if event['kind'] == 'withdraw' then delta = -delta end
redis.call('incrby', KEYS[2], delta)
redis.call('rpush', KEYS[3], event['seq'])
redis.call('set', KEYS[4], event['seq'])
return event['seq']
"""


class Mailbox:
    def __init__(self, client: redis.Redis, namespace: str) -> None:
        self.client = client
        self.namespace = namespace
        self._push = client.register_script(_PUSH)
        self._apply = client.register_script(_APPLY_HEAD)

    def keys(self, account: str) -> dict[str, str]:
        return keys(self.namespace, account)

    def push(self, event: AccountEvent) -> int:
        k = self.keys(event.account)
        body = json.dumps(event.model_dump(mode="json", exclude={"seq"}))
        return int(self._push(keys=[k["seq"], k["events"]], args=[body]))

    def apply_head(self, account: str) -> int:
        k = self.keys(account)
        return int(self._apply(keys=[k["events"], k["balance"], k["applied"], k["last_seq"]]))

    def pending(self, account: str) -> int:
        return int(self.client.llen(self.keys(account)["events"]))

    def applied(self, account: str) -> list[int]:
        return [int(s) for s in self.client.lrange(self.keys(account)["applied"], 0, -1)]

    def balance(self, account: str) -> int:
        return int(self.client.get(self.keys(account)["balance"]) or 0)
