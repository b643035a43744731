"""A name for this daemon instance that no other instance shares.

Instances report who leads (``leader`` in the API) and name themselves in their logs. The host
name alone is not enough: two instances on one host (or two containers with host networking,
both PID 1) would look the same. Host, PID and a random suffix tell them apart, and a restart
gets a new name, so "the leader changed" is visible even when it came back on the same host.
"""

from __future__ import annotations

import os
import secrets
import socket


def instance_name() -> str:
    """``"{hostname}:{pid}:{4 hex digits}"``, e.g. ``"vm:4211:9f3c"``; call it once per process."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(2)}"
