"""Messages for a broken chain of differencing images (VHD, VMDK, QCOW backing files): one rule,
so each says what is wrong with the parent it names, not always "is not next to"."""

from __future__ import annotations

from pathlib import Path


def parent_problem(kind: str, recorded: str, child: Path, parent: Path | None, seen: list[Path], too_long: bool) -> str:
    """Why the parent ``recorded`` in ``child`` cannot be used: missing, itself, a loop, too deep."""
    if too_long:
        return f"differencing {kind} chain is longer than evkit follows (at {child.name}, parent {recorded!r})"
    if parent is None:
        return f"differencing {kind} needs its parent {recorded!r}, which is not next to {child.name}"
    if parent == child:
        return f"differencing {kind} {child.name} names itself as its parent ({recorded!r}): the header is damaged"
    return (f"differencing {kind} chain loops: {child.name} names {parent.name} as its parent, "
            "which is already in the chain")
