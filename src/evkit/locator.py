"""Provenance locators: a readable, serialisable chain of the layers an entry was reached through.

Like a dfVFS path spec, but one line of text meant for manifests and report rows, e.g.::

    ewf:case.E01 > dos:vol2@65536 > ntfs:/Users/x/History#1234-128-1

Each layer is ``kind:value``; a volume layer adds ``@<byte offset>``; a filesystem layer ends in
``#<address>`` (TSK's ``inode[-type-id]``). Values are percent-encoded for ``%``, ``>``, ``#``,
``@``, control characters (C0, C1, U+2028/U+2029) and bytes that are not UTF-8, so the text parses back to the
same layers and two different entries never share a locator.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from evkit import names

SEPARATOR = " > "
# C1 controls and U+2028/U+2029 too: they are line breaks to some readers, and a locator is one line.
_ENCODE = re.compile(r"[%>#@\x00-\x1f\x7f-\x9f\u2028\u2029\udc80-\udcff]")
_DECODE = re.compile(r"%([0-9A-Fa-f]{2})")
_LAYER = re.compile(r"^(?P<kind>[a-z0-9_]+):(?P<value>[^@#]*)(?:@(?P<offset>\d+))?(?:#(?P<address>[^#]*))?$")


def quote(value: str) -> str:
    """Percent-encode the characters that would make a layer value ambiguous."""
    if _ENCODE.search(value) is None:
        return value

    def sub(m: re.Match[str]) -> str:
        o = ord(m.group(0))
        if 0xDC80 <= o <= 0xDCFF:
            return f"%{o - 0xDC00:02X}"
        return "".join(f"%{b:02X}" for b in m.group(0).encode("utf-8"))

    return _ENCODE.sub(sub, value)


def _unquote(value: str) -> str:
    if "%" not in value:
        return value
    raw = bytearray()
    pos = 0
    for m in _DECODE.finditer(value):
        raw += names.encode(value[pos : m.start()])
        raw.append(int(m.group(1), 16))
        pos = m.end()
    raw += names.encode(value[pos:])
    return names.decode(bytes(raw))


@dataclass(frozen=True)
class Layer:
    kind: str
    value: str
    offset: int | None = None
    address: str | None = None

    def __str__(self) -> str:
        text = f"{self.kind}:{quote(self.value)}"
        if self.offset is not None:
            text += f"@{self.offset}"
        if self.address is not None:
            text += f"#{quote(self.address)}"
        return text


@dataclass(frozen=True)
class Locator:
    layers: tuple[Layer, ...]

    def child(self, layer: Layer) -> "Locator":
        return Locator(self.layers + (layer,))

    def __str__(self) -> str:
        return SEPARATOR.join(str(layer) for layer in self.layers)

    @classmethod
    def parse(cls, text: str) -> "Locator":
        layers = []
        for part in text.split(SEPARATOR):
            m = _LAYER.match(part)
            if not m:
                raise ValueError(f"not a locator layer: {part!r}")
            offset = m.group("offset")
            address = m.group("address")
            layers.append(
                Layer(
                    kind=m.group("kind"),
                    value=_unquote(m.group("value")),
                    offset=int(offset) if offset is not None else None,
                    address=_unquote(address) if address is not None else None,
                )
            )
        return cls(tuple(layers))
