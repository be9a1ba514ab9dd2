"""Which addresses the HTTP client may connect to, checked on the resolved address.

`GuardedBackend` (an httpcore network backend) resolves a host itself, refuses it if any
of its addresses is loopback, private, link-local, multicast or otherwise non-public
(unless `http.allow_private` allows it), then connects to the vetted address: no second
lookup, so DNS rebinding and redirects to private hosts are refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpcore

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Which resolved addresses we may connect to."""

    allowed_nets: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    allowed_hosts: frozenset[str] = frozenset()

    @classmethod
    def from_config(cls, entries: Iterable[str]) -> AddressPolicy:
        """Build from `http.allow_private`: CIDRs, addresses or host names."""
        nets = []
        hosts = set()
        for entry in entries:
            try:
                nets.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(tuple(nets), frozenset(hosts))

    def refusal(self, host: str, ip: IPAddress) -> str | None:
        """Why connecting to `ip` (resolved from `host`) is refused, or None if allowed."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_global and not ip.is_multicast:
            return None
        if host.lower().rstrip(".") in self.allowed_hosts:
            return None
        if any(ip in net for net in self.allowed_nets if net.version == ip.version):
            return None
        kind = (
            "loopback"
            if ip.is_loopback
            else "link-local"
            if ip.is_link_local
            else "private"
            if ip.is_private
            else "non-public"
        )
        return f"{host} resolves to {kind} address {ip} (not in http.allow_private)"


class BlockedAddress(Exception):
    """Raised at connect time when the resolved address is not allowed."""


class GuardedBackend(httpcore.NetworkBackend):
    """An httpcore network backend that resolves names itself and vets every address."""

    def __init__(self, policy: AddressPolicy, inner: httpcore.NetworkBackend | None = None) -> None:
        self._policy = policy
        self._inner = inner or httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve `host`, refuse if any address is not allowed, connect to the vetted IP."""
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        # Refuse if *any* answer is not allowed: a name mixing a public and a
        # private address is a rebinding trick, not an honest feed host.
        for addr in addresses:
            reason = self._policy.refusal(host, ipaddress.ip_address(addr.split("%", 1)[0]))
            if reason:
                raise BlockedAddress(reason)
        last: Exception | None = None
        for addr in addresses:
            try:
                # Connect to the address we vetted, not the name: no second lookup.
                return self._inner.connect_tcp(addr, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        """Unix sockets are never used for fetching."""
        raise BlockedAddress("unix sockets are not allowed")

    def sleep(self, seconds: float) -> None:
        """Delegate to the inner backend."""
        self._inner.sleep(seconds)
