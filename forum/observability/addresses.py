"""Client addresses in logs: never stored in the database, and shortened in the logs.

Outside development a log line names the network, not the machine: an IPv4 address is cut to
its /24 (192.0.2.0/24), an IPv6 address to its /48. That still shows an attack coming from one
network, but no longer identifies the person's computer. Rate limiting (forum.accounts.throttle)
counts by the full address in memory or Redis only, where the counters expire with their window.
"""

from __future__ import annotations

import ipaddress

from flask import current_app, has_app_context

IPV4_PREFIX = 24
IPV6_PREFIX = 48


def log_address(address: str | None) -> str:
    """The form of a client address that may be written to a log."""
    if has_app_context() and current_app.config.get("FORUM_ENV") == "development":
        return address or "unknown"
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return "unknown"
    if ip.version == 6 and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
