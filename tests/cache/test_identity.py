"""Instance names: host and PID for people, a random suffix for two instances that share both."""

from __future__ import annotations

import os
import re
import socket

from wallboard.cache import instance_name


def test_the_name_is_host_pid_and_four_hex_digits() -> None:
    name = instance_name()

    host, pid, suffix = name.rsplit(":", 2)
    assert host == socket.gethostname()
    assert pid == str(os.getpid())
    assert re.fullmatch(r"[0-9a-f]{4}", suffix)


def test_two_instances_on_one_host_and_pid_get_different_names() -> None:
    # Containers with host networking share the host name and are all PID 1: only the suffix
    # tells them apart. 20 draws all equal by chance: 65536 ** -19.
    names = {instance_name() for _ in range(20)}

    assert len(names) > 1
