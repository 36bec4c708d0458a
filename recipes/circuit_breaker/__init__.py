"""Circuit breaker shared by every worker in Redis: stop calling a failing dependency."""

QUEUE = "circuit_breaker"
#: The dependency the demo job calls; each dependency has its own breaker.
DEPENDENCY = "inventory-api"
#: Transitions kept in the breaker's log stream (for dashboards and the tests).
LOG_MAXLEN = 1_000
#: Results kept this long (demo bookkeeping).
RESULTS_TTL_S = 7 * 86_400


def keys(namespace: str, dependency: str) -> dict[str, str]:
    base = f"{namespace}:breaker:{{{dependency}}}"  # hash tag: one cluster slot per breaker
    return {
        "state": base,
        "failures": f"{base}:failures",
        "probes": f"{base}:probes",
        "log": f"{base}:log",
    }


def results_key(namespace: str) -> str:
    return f"{namespace}:breaker:results"
