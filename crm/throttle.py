"""Login throttling: after too many failed attempts for one username (or from one
address) sign-in is refused for a while. Counters live in the cache, which is Redis
in production, so every web process sees the same count."""

from django.core.cache import cache

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


def _keys(username: str, address: str) -> list[str]:
    return [f"login-fail:user:{(username or '').strip().lower()}", f"login-fail:ip:{address or '-'}"]


def is_blocked(username: str, address: str) -> bool:
    user_key, ip_key = _keys(username, address)
    counts = cache.get_many([user_key, ip_key])
    # An address gets more room than a username: an office shares one address.
    return counts.get(user_key, 0) >= MAX_FAILURES or counts.get(ip_key, 0) >= MAX_FAILURES * 4


def record_failure(username: str, address: str) -> None:
    for key in _keys(username, address):
        cache.add(key, 0, WINDOW_SECONDS)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, WINDOW_SECONDS)


def reset(username: str, address: str) -> None:
    cache.delete(_keys(username, address)[0])
