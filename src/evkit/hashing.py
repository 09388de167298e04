"""Hashing a stream once with several algorithms at the same time.

Each algorithm runs in its own thread fed through a small bounded queue: hashlib releases the
GIL on large updates, so MD5, SHA-1 and SHA-256 use separate cores while the reader keeps going,
and memory stays at a few chunks whatever the media size.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable, Iterable

from evkit.errors import UsageError

ALGORITHMS = ("md5", "sha1", "sha256")
CHUNK = 8 * 1024 * 1024
_QUEUE_DEPTH = 4


def parse_algorithms(text: str | None, default: tuple[str, ...] = ALGORITHMS) -> list[str]:
    if not text:
        return list(default)
    algos = []
    for name in text.split(","):
        name = name.strip().lower().replace("-", "")
        if name not in ALGORITHMS:
            raise UsageError(f"unknown hash algorithm {name!r} (choose from {', '.join(ALGORITHMS)})")
        if name not in algos:
            algos.append(name)
    return algos


def hash_chunks(chunks: Iterable[bytes], algos: list[str], progress: Callable[[int], None] | None = None) -> dict[str, str]:
    """Hex digests of the concatenated ``chunks`` for every algorithm in ``algos``."""
    if len(algos) == 1:
        h = hashlib.new(algos[0])
        for chunk in chunks:
            h.update(chunk)
            if progress:
                progress(len(chunk))
        return {algos[0]: h.hexdigest()}
    hashers = {a: hashlib.new(a) for a in algos}
    queues: dict[str, queue.Queue[bytes | None]] = {a: queue.Queue(_QUEUE_DEPTH) for a in algos}

    def work(algo: str) -> None:
        h, q = hashers[algo], queues[algo]
        while (chunk := q.get()) is not None:
            h.update(chunk)

    threads = [threading.Thread(target=work, args=(a,), daemon=True) for a in algos]
    for t in threads:
        t.start()
    try:
        for chunk in chunks:
            for q in queues.values():
                q.put(chunk)
            if progress:
                progress(len(chunk))
    finally:
        for q in queues.values():
            q.put(None)
        for t in threads:
            t.join()
    return {a: h.hexdigest() for a, h in hashers.items()}


def read_chunks(read: Callable[[int], bytes], size: int | None = None, chunk: int = CHUNK) -> Iterable[bytes]:
    """Successive reads of ``chunk`` bytes until ``size`` bytes (or end of stream) are read."""
    done = 0
    while size is None or done < size:
        want = chunk if size is None else min(chunk, size - done)
        data = read(want)
        if not data:
            break
        done += len(data)
        yield data
