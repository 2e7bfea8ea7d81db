"""Each worker's own Redis database index under the run's REDIS_URL."""

from __future__ import annotations

from redis.connection import parse_url

REDIS_DATABASES = 16


def worker_number(worker_id: str) -> int:
    """`gw3` → 3; the controller of a run without xdist (`master`) → 0."""
    return int(worker_id[2:]) if worker_id.startswith("gw") else 0


def worker_redis_url(base_url: str, worker_id: str) -> str:
    """The base URL with its db index replaced by base index + worker number + 1 (mod 16)."""
    base_index = int(parse_url(base_url).get("db", 0))
    index = (base_index + worker_number(worker_id) + 1) % REDIS_DATABASES
    head, _, query = base_url.partition("?")
    scheme, _, rest = head.partition("://")
    host_part = rest.split("/", 1)[0]
    return f"{scheme}://{host_part}/{index}" + (f"?{query}" if query else "")
