"""Finding, reading and validating profiles; every error names the file, the line and the field.

Built-in profiles ship inside the package (the repository's ``profiles/`` folder); examiners add
folders with ``--profiles DIR`` or the ``EVKIT_PROFILES`` variable (``:``-separated). A later
folder's profile replaces a built-in one with the same id.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from evkit.errors import UsageError
from evkit.profiles.model import Profile, build


class ProfileError(UsageError):
    def __init__(self, file: Path | str, line: int | None, field: str, message: str) -> None:
        self.file, self.line, self.field = str(file), line, field
        where = f"{file}:{line}" if line else str(file)
        super().__init__(f"{where}: {field}: {message}" if field else f"{where}: {message}")


def _schema() -> dict[str, Any]:
    return json.loads(resources.files("evkit.profiles").joinpath("schema.json").read_text(encoding="utf-8"))


def builtin_dir() -> Path:
    return Path(str(resources.files("evkit._builtin_profiles")))


def _lines(node: yaml.Node, path: tuple[Any, ...], out: dict[tuple[Any, ...], int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            k = key.value
            out[path + (k,)] = key.start_mark.line + 1
            _lines(value, path + (k,), out)
            out[path + (k,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, path + (i,), out)


MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 100_000


class _Refused(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def _check_shape(loader_class: Any, text: str) -> None:
    """Refuse a YAML text whose tree would be too deep or too big once its aliases are expanded,
    before anything is built from it. A profile is a small document, but one from elsewhere may be
    a "billion laughs" (nine anchors of ten aliases each: a 4.6 GB tree from 1 KB), a list that
    contains itself (``&a [*a]``), or 20,000 brackets deep (Python's recursion limit): the parser's
    event stream, read once with a stack and no recursion, says all of that."""
    size: dict[str, int] = {}      # anchor -> nodes of its node, aliases inside expanded
    open_anchors: set[str] = set()  # anchors whose collection is not finished
    stack: list[tuple[str | None, int]] = []  # open collections: (anchor, nodes so far)
    total = 0
    loader = loader_class(text)
    try:
        while _next(loader):
            event = loader.get_event()
            count = 0
            if isinstance(event, yaml.AliasEvent):
                if event.anchor in open_anchors:
                    raise _Refused(event.start_mark.line + 1, f"alias *{event.anchor} refers to a node that contains it")
                count = size.get(event.anchor, 1)
            elif isinstance(event, (yaml.ScalarEvent,)):
                count = 1
                if event.anchor:
                    size[event.anchor] = 1
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    raise _Refused(event.start_mark.line + 1, f"nested more than {MAX_DEPTH} levels deep")
                if event.anchor:
                    open_anchors.add(event.anchor)
                stack.append((event.anchor, 1))
                continue
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, count = stack.pop()
                if anchor:
                    open_anchors.discard(anchor)
                    size[anchor] = count
            else:
                continue
            total += count
            if total > MAX_NODES:
                raise _Refused(event.start_mark.line + 1, f"more than {MAX_NODES} values once its aliases are expanded")
            if stack:
                anchor, inner = stack[-1]
                stack[-1] = (anchor, inner + count)
    finally:
        loader.dispose()


def _next(loader: Any) -> bool:
    """Whether another event comes; a malformed text ends the check here, and the parse that follows
    reports it with the line and problem it always gave."""
    try:
        return bool(loader.check_event())
    except yaml.MarkedYAMLError as exc:
        if exc.problem and "nesting depth" in exc.problem:  # libyaml's own limit, met while it reads ahead
            raise _Refused(exc.problem_mark.line + 1 if exc.problem_mark else 1, f"nested more than {MAX_DEPTH} levels deep") from None
        return False
    except yaml.YAMLError:
        return False


def _parse_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The node tree (for line numbers) and the data of a YAML text, parsed once.

    libyaml is used when PyYAML has it: profiles are read at every start, and the pure-Python
    parser took most of a second for the built-in ones. A text libyaml rejects is parsed again
    by the pure-Python parser, so an error names the line and problem it always named."""
    fast = getattr(yaml, "CSafeLoader", None)
    if fast is not None:
        try:
            return _parse_with(fast, text)
        except yaml.YAMLError:
            pass
    return _parse_with(yaml.SafeLoader, text)


def _parse_with(loader_class: Any, text: str) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def load_file(path: Path) -> Profile:
    """Parse and validate one profile file."""
    import jsonschema

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        raise ProfileError(path, None, "", f"cannot read: {exc}") from exc
    if len(text) > MAX_BYTES:
        raise ProfileError(path, None, "", f"{len(text)} characters: a profile is at most {MAX_BYTES}")
    try:
        _check_shape(getattr(yaml, "CSafeLoader", yaml.SafeLoader), text)
        node, data = _parse_yaml(text)
    except _Refused as exc:
        raise ProfileError(path, exc.line, "", f"refused: {exc}") from None
    except yaml.reader.ReaderError as exc:  # a NUL or other control character: its line, on one line
        line = text.count("\n", 0, exc.position) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character[:1] or "\0")
        raise ProfileError(path, line, "", f"malformed YAML: character U+{code:04X} is not allowed") from None
    except yaml.MarkedYAMLError as exc:
        # At the end of the file the problem is wherever the unclosed thing was opened.
        at_end = bool(exc.problem and "stream end" in exc.problem and exc.context_mark)
        mark = exc.context_mark if at_end else exc.problem_mark
        raise ProfileError(path, mark.line + 1 if mark else None, "", f"malformed YAML: {exc.problem}") from exc
    except yaml.YAMLError as exc:
        raise ProfileError(path, None, "", f"malformed YAML: {exc}") from exc
    if not isinstance(data, dict) or node is None:
        raise ProfileError(path, 1, "", "a profile must be a YAML mapping")
    lines: dict[tuple[Any, ...], int] = {}
    _lines(node, (), lines)
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), list(map(str, e.absolute_path))))
    if errors:
        err = errors[0]
        where = tuple(err.absolute_path)
        line = next((lines[where[:i]] for i in range(len(where), -1, -1) if where[:i] in lines), None)
        field = ".".join(str(p) for p in where) or "(top level)"
        raise ProfileError(path, line, field, err.message)
    _check_references(path, data, lines)
    return build(data, path)


def _check_references(path: Path, data: dict[str, Any], lines: dict[tuple[Any, ...], int]) -> None:
    """What the schema cannot say: each parser's artifacts need their own keys."""
    for name, art in data["artifacts"].items():
        where = ("artifacts", name)
        if data["parser"] == "sqlite" and not art.get("queries"):
            raise ProfileError(path, lines.get(where), f"artifacts.{name}.queries", "a sqlite profile needs at least one query per artifact")
        if data["parser"] == "text" and not art.get("pattern"):
            raise ProfileError(path, lines.get(where), f"artifacts.{name}.pattern", "a text profile needs a regular expression")
        for i, query in enumerate(art.get("queries") or []):
            from evkit.profiles.sqlguard import check_query

            reads: dict[str, list[str]] = {}
            for part in (query.get("requires") or {}, query.get("optional") or {}):
                for t, cols in part.items():
                    reads.setdefault(t, []).extend(cols)
            problem = check_query(query["sql"], reads)
            if problem:
                raise ProfileError(path, lines.get(where + ("queries", i, "sql")), f"artifacts.{name}.queries.{i}.sql", problem)
        if art.get("pattern"):
            import regex

            from evkit.profiles.patterns import compile_pattern

            try:
                compile_pattern(art["pattern"])
            except regex.error as exc:
                raise ProfileError(path, lines.get(where + ("pattern",)), f"artifacts.{name}.pattern", f"invalid regular expression: {exc}") from exc
        time_col = (art.get("timeline") or {}).get("time")
        if time_col and art.get("columns") and time_col not in art["columns"]:
            raise ProfileError(path, lines.get(where + ("timeline", "time")), f"artifacts.{name}.timeline.time",
                               f"names column {time_col!r}, which is not declared under columns")


def search_dirs(extra: list[str] | None = None) -> list[Path]:
    dirs = [builtin_dir()]
    env = os.environ.get("EVKIT_PROFILES", "")
    dirs += [Path(p) for p in env.split(os.pathsep) if p]
    dirs += [Path(p) for p in extra or []]
    return dirs


def load_all(extra: list[str] | None = None) -> dict[str, Profile]:
    """Every profile by id; a missing user folder is a usage error, never silently skipped."""
    profiles: dict[str, Profile] = {}
    for d in search_dirs(extra):
        if not d.is_dir():
            raise UsageError(f"{d}: profile folder not found")
        for f in sorted(d.glob("*.y*ml")):
            p = load_file(f)
            profiles[p.id] = p
    return profiles


def unknown_profile(pid: str, known: Iterable[str]) -> str:
    """The message for a profile id nobody has: the closest known ids, if any, and where to look."""
    from difflib import get_close_matches

    close = get_close_matches(pid, list(known), n=3, cutoff=0.6)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown profile {pid!r}{hint} (see `evkit profiles list`)"


def select(profiles: dict[str, Profile], ids: list[str] | None) -> list[Profile]:
    if not ids:
        return list(profiles.values())
    missing = [i for i in ids if i not in profiles]
    if missing:
        raise UsageError("; ".join(unknown_profile(i, profiles) for i in missing))
    return [profiles[i] for i in ids]
