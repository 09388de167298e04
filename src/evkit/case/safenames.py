"""Turning hostile in-evidence paths into safe, deterministic paths inside the case folder.

Every component is kept readable where it is harmless and written ``=XX`` (the hex of each UTF-8
byte, like quoted-printable) where it is not: control characters, bytes that are not UTF-8,
``/`` and ``= % \\ : * ? " < > |`` (Windows), trailing dots and spaces, ``.``/``..`` and the reserved DOS
device names (``CON``, ``aux.txt``...). ``=`` rather than ``%`` keeps BagIt manifests free of
percent-encoding, which not every validator decodes. Over-long
components are shortened with a hash of the full name. The original is always kept in the
artefact record (``path`` and ``path_hex``), and the result never leaves the case folder.
"""

from __future__ import annotations

import hashlib
import re

MAX_COMPONENT = 200  # bytes; leaves room for collision suffixes under the usual 255-byte limit
_UNSAFE = re.compile('[\\x00-\\x1f\\x7f=%/\\\\:*?"<>|\\udc80-\\udcff]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$", re.IGNORECASE)


def _pct(ch: str) -> str:
    o = ord(ch)
    if 0xDC80 <= o <= 0xDCFF:
        return f"={o - 0xDC00:02X}"
    return "".join(f"={b:02X}" for b in ch.encode("utf-8"))


def safe_component(name: str) -> str:
    if name in ("", ".", ".."):
        return "".join(_pct(c) for c in name) or "=00empty"
    out = _UNSAFE.sub(lambda m: _pct(m.group(0)), name)
    if _RESERVED.match(out):
        out = _pct(out[0]) + out[1:]
    if out[-1] in ". ":
        out = out[:-1] + _pct(out[-1])
    raw = out.encode("utf-8")
    if len(raw) > MAX_COMPONENT:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        stem, dot, ext = out.rpartition(".")
        ext = f".{ext}" if dot and len(ext.encode()) <= 16 else ""
        keep = (out if not ext else stem).encode("utf-8")[: MAX_COMPONENT - len(ext) - 18].decode("utf-8", "ignore")
        out = f"{keep}~{digest}{ext}"
    return out


def safe_relpath(path: str) -> str:
    """``/a/../b:c`` -> ``a/=2E=2E/b=3Ac``: a relative path with no way out of its folder."""
    parts = path.split("/")
    if parts and parts[0] == "":
        parts = parts[1:]
    return "/".join(safe_component(p) for p in parts) or "=00empty"


def with_suffix(relpath: str, token: str) -> str:
    """Make a colliding name unique: ``dir/file.txt`` -> ``dir/file~<token>.txt``."""
    head, _, name = relpath.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    new = f"{stem}~{token}.{ext}" if dot and stem else f"{name}~{token}"
    return f"{head}/{new}" if head else new
