"""Every filesystem of an evidence item as one read-only FUSE mount, so ordinary tools can browse it.

Layout of the mounted tree:

* The allocated tree as :mod:`evkit.sources.source` shows it: an unpartitioned image or a logical
  source is its filesystem root; a partitioned image shows each filesystem as ``/vol<N>`` (an APFS
  container adds ``/vol<N>/apfs<M>``).
* NTFS alternate data streams are separate read-only files named ``file:stream`` next to their file.
* Deleted entries never mix with allocated ones: they live under the top-level folder ``/$DELETED``,
  which mirrors the tree (``/$DELETED/vol2/Users/alice/old.txt``). It holds every deleted entry of
  a folder plus the allocated sub-folders that lead to deeper deleted entries; inside a deleted
  folder everything it still lists is shown. A deleted entry whose name is also used by an
  allocated sibling or another deleted one is named ``name (deleted inode N)``, so each is reachable.
  Such a deleted folder cannot be listed by its path (the path leads to its twin), so listing it
  answers EIO instead of showing its twin's content.
* Symlinks are symlinks with the target stored in the evidence; evkit never resolves them (the
  kernel resolves them against the examiner's own machine, as for any mounted disk).
* Files are mode 0444, folders 0555, owned by the user who mounted; times are the evidence's.
  The mount is read-only (``-o ro``) and every write operation answers EROFS; nothing is ever
  written to the evidence.

Names that are not UTF-8 round-trip: evkit keeps them as ``str`` with ``surrogateescape`` and
mfusepy decodes and encodes FUSE's byte paths the same way (``os.fsdecode`` on Linux).

The process serves requests in the foreground, single-threaded (pytsk3 objects are not safe to
share between threads), until Ctrl-C, SIGTERM or ``fusermount3 -u`` ends it; the mountpoint is
then released even if libfuse left it behind.
"""

from __future__ import annotations

import errno
import functools
import os
import shlex
import shutil
import stat
import subprocess
from collections import Counter, OrderedDict
from collections.abc import Callable
from ctypes.util import find_library
from dataclasses import dataclass
from types import ModuleType
from typing import Any, NoReturn, TypeVar

from evkit import names
from evkit.errors import EvkitError, UsageError
from evkit.sources.base import Entry
from evkit.sources.source import Source, open_source

DELETED_DIR = "$DELETED"

# Views of a folder: the allocated tree, its mirror under /$DELETED (deleted entries plus the
# allocated folders leading to more of them), and the inside of a deleted folder (everything).
LIVE = "live"
DELETED = "deleted"
GONE = "gone"

# Directory listings kept, counted in entries, not folders: one folder can hold a million files.
LISTING_BUDGET = 100_000

# The evidence never changes while mounted, so the kernel may keep names and attributes for long.
CACHE_SECONDS = 3600

_F = TypeVar("_F", bound=Callable[..., Any])


class FuseUnavailable(EvkitError):
    """This machine cannot mount FUSE filesystems: no /dev/fuse or no usable libfuse."""


@dataclass
class Node:
    """One name in the mounted tree.

    ``entry`` is None for the synthetic folders (the mount root and ``/$DELETED``). ``listable``
    says that walking ``entry.path`` in the evidence reaches this very folder: a path lookup
    prefers allocated names, so a deleted folder sharing its name with an allocated sibling
    (or with an earlier deleted one) cannot be listed by path and answers EIO rather than show
    its twin's content.
    """

    entry: Entry | None
    view: str
    listable: bool = True

    @property
    def is_dir(self) -> bool:
        return self.entry is None or self.entry.type == "dir"

    @property
    def evidence_path(self) -> str:
        return self.entry.path if self.entry is not None else "/"


class _Listings:
    """Least-recently-used cache of folder listings, bounded by the total entries it holds."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._items: OrderedDict[tuple[str, str], tuple[Any, int]] = OrderedDict()
        self._held = 0

    def get(self, key: tuple[str, str]) -> Any | None:
        item = self._items.get(key)
        if item is None:
            return None
        self._items.move_to_end(key)
        return item[0]

    def put(self, key: tuple[str, str], value: Any, size: int) -> None:
        self._items[key] = (value, size)
        self._held += size
        # The newest listing stays even when it alone exceeds the budget: it is being used.
        while self._held > self._budget and len(self._items) > 1:
            _, (_, dropped) = self._items.popitem(last=False)
            self._held -= dropped


def _fuse_errors(method: _F) -> _F:
    """Answer evidence problems with EIO instead of letting mfusepy log a traceback and say EINVAL."""

    @functools.wraps(method)
    def wrapper(*args: Any) -> Any:
        try:
            return method(*args)
        except OSError as exc:
            if isinstance(exc.errno, int) and exc.errno > 0:
                raise
            raise OSError(errno.EIO, os.strerror(errno.EIO)) from exc  # pytsk3 raises OSError without errno
        except (EvkitError, RuntimeError) as exc:
            raise OSError(errno.EIO, os.strerror(errno.EIO)) from exc

    return wrapper  # type: ignore[return-value]


def _fail(code: int) -> NoReturn:
    raise OSError(code, os.strerror(code))


def _safe(name: str) -> str:
    """A name FUSE can carry: '/' and NUL cannot be in a path component, so they are shown escaped."""
    return name.replace("/", "\\x2f").replace("\0", "\\x00")


class EvidenceFS:
    """mfusepy operations over an opened :class:`Source` (duck-typed: mfusepy only looks methods up)."""

    use_ns = True  # times in integer nanoseconds, the form mfusepy does not deprecate

    def __init__(self, src: Source, on_ready: Callable[[Source], None] | None = None) -> None:
        self.src = src
        self.ready = False
        self._on_ready = on_ready
        self._uid = os.getuid()
        self._gid = os.getgid()
        self._listings = _Listings(LISTING_BUDGET)
        self._handles: dict[int, Any] = {}
        self._next_handle = 1

    # -- tree -----------------------------------------------------------------------------
    def _raw(self, node: Node) -> list[Entry]:
        """Everything the evidence lists in the folder, walked once and shared by all views."""
        key = ("raw", node.evidence_path)
        cached = self._listings.get(key)
        if cached is None:
            cached = list(self.src.walk(node.evidence_path, recursive=False))
            self._listings.put(key, cached, len(cached))
        return cached

    def _listing(self, node: Node) -> dict[str, Node]:
        if not node.is_dir:
            _fail(errno.ENOTDIR)
        if not node.listable:
            _fail(errno.EIO)
        key = (node.view, node.evidence_path)
        cached = self._listings.get(key)
        if cached is None:
            cached = self._build(node)
            self._listings.put(key, cached, len(cached))
        return cached

    def _build(self, node: Node) -> dict[str, Node]:
        raw = self._raw(node)
        allocated = {e.name for e in raw if not e.deleted}
        deleted_count = Counter(e.name for e in raw if e.deleted)
        # The entry a path lookup finds for each name: the first allocated one, else the first deleted.
        winner: dict[str, Entry] = {}
        for e in raw:
            best = winner.get(e.name)
            if best is None or (best.deleted and not e.deleted):
                winner[e.name] = e
        out: dict[str, Node] = {}
        if node.entry is None and node.view == LIVE:
            out[DELETED_DIR] = Node(None, DELETED)
        for e in raw:
            view = self._child_view(node.view, e)
            if view is None:
                continue
            clash = e.deleted and (e.name in allocated or deleted_count[e.name] > 1)
            # A deleted name without an inode has no metadata left: there is no folder to read.
            listable = node.listable and winner[e.name] is e and not (e.deleted and e.inode is None)
            out[self._label(e, clash, out)] = Node(e, view, listable)
        return out

    @staticmethod
    def _child_view(parent_view: str, e: Entry) -> str | None:
        """Which view a child belongs to, or None when it is not shown in this one."""
        if parent_view == LIVE:
            return None if e.deleted else LIVE
        if parent_view == DELETED:
            if e.deleted:
                return GONE
            return DELETED if e.type == "dir" else None
        return GONE

    @staticmethod
    def _label(e: Entry, clash: bool, taken: dict[str, Node]) -> str:
        name = _safe(e.name)
        suffix = f"deleted inode {e.inode or 0}" if e.deleted else f"inode {e.inode or 0}"
        label = f"{name} ({suffix})" if clash else name
        n = 2
        # Left over: the same name and inode twice, an allocated twin, or a clash with /$DELETED.
        while label in taken:
            label = f"{name} ({suffix} #{n})"
            n += 1
        return label

    def _resolve(self, path: str) -> Node:
        node = Node(None, LIVE)
        for part in path.split("/"):
            if not part:
                continue
            child = self._listing(node).get(part)
            if child is None:
                _fail(errno.ENOENT)
            node = child
        return node

    # -- metadata -------------------------------------------------------------------------
    def _attrs(self, node: Node) -> dict[str, int]:
        e = node.entry
        attrs = {"st_uid": self._uid, "st_gid": self._gid, "st_nlink": 1}
        if e is None:
            attrs.update(st_mode=stat.S_IFDIR | 0o555, st_nlink=2, st_size=0)
            return attrs
        if e.type == "dir":
            attrs.update(st_mode=stat.S_IFDIR | 0o555, st_nlink=2, st_size=0)
        elif e.type == "link":
            attrs.update(st_mode=stat.S_IFLNK | 0o777, st_size=len(names.encode(e.link_target or "")))
        else:
            attrs.update(st_mode=stat.S_IFREG | 0o444, st_size=e.size)
        attrs.update(
            st_blocks=(attrs["st_size"] + 511) // 512,
            st_atime=e.atime_s * 10**9, st_mtime=e.mtime_s * 10**9, st_ctime=e.ctime_s * 10**9,
        )
        return attrs

    def init(self, path: str) -> None:
        self.ready = True
        if self._on_ready is not None:
            self._on_ready(self.src)

    @_fuse_errors
    def getattr(self, path: str, fh: int | None = None) -> dict[str, int]:
        return self._attrs(self._resolve(path))

    @_fuse_errors
    def readdir(self, path: str, fh: int) -> list[str | tuple[str, int, int]]:
        # A list, not a generator: errors must surface here, inside _fuse_errors.
        listing = self._listing(self._resolve(path))
        return [".", "..", *((label, self._attrs(node)["st_mode"], 0) for label, node in listing.items())]

    @_fuse_errors
    def readlink(self, path: str) -> str:
        e = self._resolve(path).entry
        if e is None or e.type != "link":
            _fail(errno.EINVAL)
        return e.link_target or ""

    # -- content --------------------------------------------------------------------------
    @_fuse_errors
    def open(self, path: str, flags: int) -> int:
        if flags & os.O_ACCMODE != os.O_RDONLY:
            _fail(errno.EROFS)
        node = self._resolve(path)
        if node.entry is None or node.entry.type == "dir":
            _fail(errno.EISDIR)
        stream = self.src.open(node.entry)
        handle = self._next_handle
        self._next_handle += 1
        self._handles[handle] = stream
        return handle

    @_fuse_errors
    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        stream = self._handles.get(fh)
        if stream is None:
            _fail(errno.EBADF)
        stream.seek(offset)
        return stream.read(size)

    @_fuse_errors
    def release(self, path: str, fh: int) -> int:
        stream = self._handles.pop(fh, None)
        if stream is not None:
            stream.close()
        return 0

    def destroy(self, path: str) -> None:
        for stream in self._handles.values():
            stream.close()
        self._handles.clear()

    # -- writes: the mount is read-only, these only make sure any that get through say so ---
    def _read_only(self, *args: Any) -> NoReturn:
        _fail(errno.EROFS)

    chmod = chown = create = link = mkdir = mknod = rename = rmdir = symlink = _read_only
    truncate = unlink = utimens = write = setxattr = removexattr = fallocate = _read_only


# -- mounting ---------------------------------------------------------------------------------
def _load_fuse() -> ModuleType:
    """mfusepy bound to a usable libfuse, or FuseUnavailable naming what is missing.

    libfuse 3 is chosen when installed: it mounts with ``fusermount3`` from the fuse3 package,
    while libfuse 2 (which mfusepy would pick first) needs a ``fusermount`` that current Debian
    no longer ships. FUSE_LIBRARY_PATH or FUSE_LIBRARY_NAME, when set, still decide.
    """
    if not os.path.exists("/dev/fuse"):
        raise FuseUnavailable("cannot mount: /dev/fuse is missing (load the fuse kernel module; "
                              "in a container, pass the device, e.g. --device /dev/fuse --cap-add SYS_ADMIN)")
    if not (os.environ.get("FUSE_LIBRARY_PATH") or os.environ.get("FUSE_LIBRARY_NAME")) and find_library("fuse3"):
        os.environ["FUSE_LIBRARY_NAME"] = "fuse3"
    try:
        import mfusepy
    except (OSError, AttributeError) as exc:
        raise FuseUnavailable(f"cannot mount: no usable libfuse ({exc}); install the fuse3 package") from exc
    return mfusepy


def _check_mountpoint(mountpoint: str) -> None:
    shown = names.escape(mountpoint)
    if not os.path.lexists(mountpoint):
        raise UsageError(f"{shown}: mount point does not exist (create an empty folder)")
    if not os.path.isdir(mountpoint):
        raise UsageError(f"{shown}: mount point is not a folder")
    if is_mounted(mountpoint):
        raise UsageError(f"{shown}: something is already mounted there")
    try:
        if os.listdir(mountpoint):
            raise UsageError(f"{shown}: mount point is not empty")
    except OSError as exc:
        raise UsageError(f"{shown}: cannot read the mount point: {exc.strerror or exc}") from exc


def _unescape_mountinfo(field: bytes) -> bytes:
    r"""/proc/self/mountinfo writes space, tab, newline and backslash in paths as \040-style octal."""
    out = bytearray()
    i = 0
    while i < len(field):
        if field[i : i + 1] == b"\\" and field[i + 1 : i + 4].isdigit():
            out.append(int(field[i + 1 : i + 4], 8))
            i += 4
        else:
            out.append(field[i])
            i += 1
    return bytes(out)


def is_mounted(mountpoint: str) -> bool:
    """Whether anything is mounted at ``mountpoint``.

    Read from the mount table rather than ``os.path.ismount``, which stats the folder and so
    reports False for a FUSE mount whose process died (stat fails with ENOTCONN) though it still
    needs unmounting.
    """
    target = os.fsencode(os.path.realpath(mountpoint))
    try:
        with open("/proc/self/mountinfo", "rb") as fh:
            return any(_unescape_mountinfo(line.split(b" ")[4]) == target for line in fh)
    except OSError:
        return os.path.ismount(mountpoint)


def fusermount() -> str:
    """The unmount helper to tell people about: fusermount3 where it exists, else fusermount."""
    return "fusermount" if shutil.which("fusermount") and not shutil.which("fusermount3") else "fusermount3"


def _release(mountpoint: str) -> None:
    """Lazily unmount whatever libfuse left mounted, so the folder is usable again."""
    for tool in ("fusermount3", "fusermount"):
        if not is_mounted(mountpoint):
            return
        if shutil.which(tool):
            subprocess.run([tool, "-u", "-z", mountpoint], capture_output=True, timeout=30, check=False)
    if is_mounted(mountpoint):
        raise EvkitError(f"{names.escape(mountpoint)} is still mounted; unmount it with: "
                         f"{fusermount()} -u -z {shlex.quote(mountpoint)}")


def mount(source: str, mountpoint: str, on_ready: Callable[[Source], None] | None = None) -> None:
    """Mount ``source`` read-only at ``mountpoint`` and serve it until unmounted or signalled.

    ``on_ready`` runs once the kernel has accepted the mount, with the opened source (what is
    mounted can then be described without opening the evidence twice). Returns normally after Ctrl-C,
    SIGTERM or ``fusermount3 -u``; raises :class:`UsageError` for a bad mountpoint and
    :class:`FuseUnavailable` when this machine cannot mount FUSE filesystems.
    """
    # libfuse changes into / once mounted: relative paths would then miss the evidence and the mountpoint.
    source = os.path.abspath(source)
    mountpoint = os.path.abspath(mountpoint)
    _check_mountpoint(mountpoint)
    fuse = _load_fuse()
    with open_source(source) as src:
        ops = EvidenceFS(src, on_ready)
        try:
            fuse.FUSE(ops, mountpoint, foreground=True, nothreads=True, ro=True, fsname="evkit", subtype="evkit",
                      attr_timeout=CACHE_SECONDS, entry_timeout=CACHE_SECONDS, negative_timeout=CACHE_SECONDS)
        except RuntimeError as exc:
            # libfuse 3 reports a loop ended by a signal as an error; only a mount that never
            # came up is a failure (libfuse has printed its reason on stderr).
            if not ops.ready:
                raise EvkitError(f"could not mount at {names.escape(mountpoint)} (libfuse error {exc})") from exc
        finally:
            _release(mountpoint)
