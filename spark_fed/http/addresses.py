"""Which network addresses Spark's outbound client may connect to.

Federation makes Spark fetch URLs chosen by strangers (actor ids, key ids, inboxes, WebFinger
hosts). Without a guard, a remote actor could point Spark at its own admin ports, the cloud
metadata service (169.254.169.254) or a LAN printer. So by default only globally routable
unicast addresses are allowed, the way Mastodon (`ALLOWED_PRIVATE_ADDRESSES`) and GoToSocial
(`httpclient/sanitizer.go`) do it; tests and private deployments open it up through
`federation.allow_private_addresses` or a host[:port] allow-list.

This module is pure (no I/O, no aiohttp): `spark_fed.http.client` applies it to URL literals and
to every address DNS returns.
"""

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from ..config import FederationConfig
from ..errors import ConfigError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Prefixes that carry an IPv4 address inside an IPv6 one; the embedded address is what the packet
# finally reaches, so it is judged instead (RFC 6052 NAT64 well-known prefix).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

# Ranges blocked explicitly because their `is_global`/`is_private` answers changed between Python
# releases (3.11.7 calls 192.0.0.8 global; RFC 8215 local-use NAT64 is not special-cased
# everywhere). Listing them keeps the policy the same on every supported interpreter.
_ALSO_BLOCKED: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = (
    ipaddress.IPv4Network("0.0.0.0/8"),  # "this network"
    ipaddress.IPv4Network("100.64.0.0/10"),  # carrier-grade NAT (RFC 6598)
    ipaddress.IPv4Network("192.0.0.0/24"),  # IETF protocol assignments
    ipaddress.IPv4Network("198.18.0.0/15"),  # benchmarking
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local-use NAT64 (RFC 8215)
    ipaddress.IPv6Network("fec0::/10"),  # deprecated site-local, `is_global` says True on 3.11
)


def is_public_address(address: str | IPAddress) -> bool:
    """True when ADDRESS is a globally routable unicast address that anyone may make us contact.

    Refused: loopback, RFC 1918 private, link-local (incl. the 169.254.169.254 metadata service),
    unique-local fc00::/7, site-local, CGNAT 100.64/10, multicast, unspecified, reserved and
    documentation ranges, and any IPv6 form that embeds one of those IPv4 addresses
    (IPv4-mapped ::ffff:a.b.c.d, NAT64 64:ff9b::/96, 6to4 2002::/16). A string that is not an
    address is refused too, so a parsing surprise can never widen the policy.
    """
    if isinstance(address, str):
        try:
            address = ipaddress.ip_address(address)
        except ValueError:
            return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False  # a zone (fe80::1%eth0) only makes sense for link-local
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return is_public_address(embedded)
    if any(address in network for network in _ALSO_BLOCKED if network.version == address.version):
        return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def parse_ip(host: str) -> IPAddress | None:
    """HOST as an IP address (brackets allowed), or None for a DNS name."""
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def _normal_host(host: str) -> str:
    """The comparable form of a host: lower case, no trailing dot, IPs in their compressed form."""
    address = parse_ip(host)
    if address is not None:
        return address.compressed
    return host.lower().rstrip(".")


def parse_allowed_host(entry: str) -> tuple[str, int | None]:
    """One `federation.allowed_hosts` entry: `host`, `host:port`, `[v6]`, `[v6]:port` or a bare v6.

    A port of None means any port. A malformed entry is a ConfigError naming it, so a typo stops
    start-up instead of silently allowing nothing (or more than meant).
    """
    text = entry.strip()
    host, port_text = text, ""
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise ConfigError(f"federation.allowed_hosts: {entry!r} is not host or host:port")
        port_text = rest[1:]
        if parse_ip(host) is None:
            raise ConfigError(f"federation.allowed_hosts: {entry!r} has brackets around a non-address")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
    if not host or "/" in host or "@" in host or " " in host:
        raise ConfigError(f"federation.allowed_hosts: {entry!r} is not host or host:port")
    port: int | None = None
    if port_text or text.endswith(":"):
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ConfigError(f"federation.allowed_hosts: {entry!r} has an invalid port")
        port = int(port_text)
    return _normal_host(host), port


@dataclass(frozen=True)
class AddressPolicy:
    """The outbound address rules from `[federation]`, parsed once."""

    allow_private: bool = False
    allowed: frozenset[tuple[str, int | None]] = frozenset()

    @classmethod
    def from_config(cls, federation: FederationConfig) -> "AddressPolicy":
        return cls.build(federation.allow_private_addresses, federation.allowed_hosts)

    @classmethod
    def build(cls, allow_private: bool, allowed_hosts: Iterable[str] = ()) -> "AddressPolicy":
        return cls(allow_private, frozenset(parse_allowed_host(entry) for entry in allowed_hosts))

    def host_allowed(self, host: str, port: int) -> bool:
        """Whether HOST:PORT is on the allow-list (and so may reach any address it resolves to)."""
        normal = _normal_host(host)
        return (normal, None) in self.allowed or (normal, port) in self.allowed

    def permits(self, host: str, port: int, address: str | IPAddress) -> bool:
        """Whether a connection to ADDRESS, made for the URL host HOST:PORT, may be opened."""
        return self.allow_private or is_public_address(address) or self.host_allowed(host, port)
