"""A Redis cache that keeps to its own keys.

Django's RedisCache.clear() empties the whole Redis database (FLUSHDB), including keys of
other deployments or parallel test workers sharing it. This one deletes only the keys under
its KEY_PREFIX.
"""

from __future__ import annotations

from django.core.cache.backends.redis import RedisCache


class ScopedRedisCache(RedisCache):
    def clear(self) -> None:
        client = self._cache.get_client(write=True)
        pattern = self.make_key("*")
        keys = list(client.scan_iter(match=pattern, count=500))
        for start in range(0, len(keys), 500):
            client.delete(*keys[start : start + 500])
