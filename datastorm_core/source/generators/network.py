"""ip: IP addresses as PostgreSQL's inet text, to fill an application's inet columns.

IPv4 addresses are drawn uniformly over the unicast addresses a host may
have on a network: 0.0.0.0/8 ("this network"), 127.0.0.0/8 (loopback)
and everything from 224.0.0.0 up (multicast and reserved) are left out.
What remains is laid end to end, so an ordinal maps to an address with
two additions: unique addresses enumerate it.

IPv6 addresses are global unicast (2000::/3) outside the documentation
prefix 2001:db8::/32, written compressed, as ``ipaddress`` writes them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from functools import lru_cache

import numpy as np

from datastorm_core.core.chunk import Column
from datastorm_core.core.schema import ValueSpace
from datastorm_core.source.generators.base import Generator
from datastorm_core.source.services.permutation import MAX_DOMAIN

__all__ = ["IPV4_SPACE", "IpGenerator", "ipv4_text", "ipv6_text"]

_BLOCK = 1 << 24  # a /8
# 1.0.0.0 - 126.255.255.255 and 128.0.0.0 - 223.255.255.255.
IPV4_SPACE = (126 + 96) * _BLOCK
_LOOPBACK = 127 * _BLOCK
# 2001:db8::/32 (documentation) as the top 32 bits of an address.
_DOCUMENTATION = 0x20010DB8


@lru_cache(maxsize=1)
def _decimal_octets() -> np.ndarray:
    return np.array([str(n) for n in range(256)])


@lru_cache(maxsize=1)
def _hex_groups() -> np.ndarray:
    """"0" to "ffff": the text of every 16-bit group, as IPv6 writes it (no leading zeros)."""
    return np.array([format(n, "x") for n in range(1 << 16)])


def ipv4_text(addresses: np.ndarray) -> np.ndarray:
    """Dotted quads of 32-bit addresses."""
    octets = _decimal_octets()
    addresses = np.asarray(addresses, dtype=np.int64)
    text = octets[addresses >> 24]
    for shift in (16, 8, 0):
        text = np.strings.add(np.strings.add(text, "."), octets[(addresses >> shift) & 0xFF])
    return text


def ipv6_text(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Compressed text of 128-bit addresses given as two uint64 halves."""
    groups = np.stack([(half >> np.uint64(shift)) & np.uint64(0xFFFF)
                       for half in (high, low) for shift in (48, 32, 16, 0)],
                      axis=1).astype(np.intp)
    hexes = _hex_groups()
    text = hexes[groups[:, 0]]
    for position in range(1, 8):
        text = np.strings.add(np.strings.add(text, ":"), hexes[groups[:, position]])
    # "::" replaces the longest run of two or more zero groups. Random groups are
    # zero once in 65,536, so such rows are rare: ipaddress writes those few, one by
    # one (a per-row loop over a handful of rows, where a vectorised run search
    # would cost more than it saves).
    zero = groups == 0
    compressible = np.flatnonzero((zero[:, :-1] & zero[:, 1:]).any(axis=1))
    if len(compressible):
        text = text.astype(f"<U{max(text.dtype.itemsize // 4, 39)}")
        for row in compressible.tolist():
            value = (int(high[row]) << 64) | int(low[row])
            text[row] = str(ipaddress.IPv6Address(value))
    return text


class IpGenerator(Generator):
    """``version = 4`` (default) or ``6``; unique-capable in both versions."""

    syntax = "inet"

    @property
    def version(self) -> int:
        return int(self.field.param("version", 4))

    def space(self) -> int:
        # IPv6: an ordinal fills the low 62 bits of the address, the rest is random,
        # so distinct ordinals give distinct addresses.
        return IPV4_SPACE if self.version == 4 else MAX_DOMAIN

    def value_space(self) -> ValueSpace:
        return ValueSpace(max_length=15 if self.version == 4 else 39)

    def from_ordinals(self, ordinals: np.ndarray, indices: np.ndarray) -> np.ndarray:
        ordinals = np.asarray(ordinals, dtype=np.int64)
        if self.version == 4:
            addresses = ordinals + _BLOCK  # past 0.0.0.0/8
            addresses = np.where(addresses >= _LOOPBACK, addresses + _BLOCK, addresses)
            return ipv4_text(addresses)
        top = self.stream.sub("top").bits(indices) & np.uint64(0xC000_0000_0000_0000)
        return self._ipv6(indices, top | ordinals.astype(np.uint64))

    def generate(self, indices: np.ndarray, row: Mapping[str, Column]) -> np.ndarray:
        if self.version == 4:
            return self.from_ordinals(self.stream.integers(indices, 0, IPV4_SPACE - 1),
                                      indices)
        return self._ipv6(indices, self.stream.sub("low").bits(indices))

    def _ipv6(self, indices: np.ndarray, low: np.ndarray) -> np.ndarray:
        # 001 then 61 random bits: the global unicast block 2000::/3.
        high = (self.stream.sub("high").bits(indices) >> np.uint64(3)) | np.uint64(1 << 61)
        # An address in 2001:db8::/32 (documentation) moves to 2001:db9::/32, a
        # neighbouring /32 that is then twice as likely: one in 2**29, unseen.
        documentation = (high >> np.uint64(32)) == np.uint64(_DOCUMENTATION)
        high = np.where(documentation, high ^ (np.uint64(1) << np.uint64(32)), high)
        return ipv6_text(high, low)
