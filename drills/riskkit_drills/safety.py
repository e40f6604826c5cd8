"""Where a drill may point: loopback unless the operator says otherwise."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from riskkit.errors import UsageError

__all__ = ["check_target", "is_loopback_url"]


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(url: str, allow_remote: bool) -> None:
    """Refuse a non-loopback target without ``--allow-remote``."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--target must be an http(s) URL, got {url!r}")
    if not allow_remote and not is_loopback_url(url):
        raise UsageError(
            f"--target {url} is not on loopback (127.0.0.0/8, ::1, localhost): "
            "drills against other hosts need --allow-remote"
        )
