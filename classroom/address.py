"""The address learners type: the hub's bind URL with a real host name where it listens on every interface."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit, urlunsplit

# Hosts that mean "every interface": a learner cannot type them.
_EVERY_INTERFACE = {"", "0.0.0.0", "::", "[::]"}


def learner_url(bind_url: str, host: str | None = None) -> str:
    """Return the URL learners open: ``http://:8000`` becomes ``http://<this machine's name>:8000``."""
    parts = urlsplit(bind_url)
    if (parts.hostname or "") not in _EVERY_INTERFACE and f"[{parts.hostname}]" not in _EVERY_INTERFACE:
        return bind_url
    name = host or socket.getfqdn() or socket.gethostname()
    port = f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme or "http", f"{name}{port}", parts.path or "/", "", ""))
