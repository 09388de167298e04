"""Names and locators are lossless: random bytes survive escape/unescape, every locator parses back
to its layers, and two different entries never print the same locator (seeded, many cases)."""

from __future__ import annotations

import random
import unicodedata

import pytest

from evkit import names
from evkit.locator import SEPARATOR, Layer, Locator

CASES = 10_000

# Pieces that stress the encodings: the escape character itself, things that look like escapes,
# C0/C1 controls, invalid and overlong UTF-8, surrogates encoded in UTF-8, valid multi-byte text,
# invisible and direction-changing characters, and the locator's own syntax characters.
PIECES = [
    b"\\", b"\\\\", b"\\x", b"\\x4", b"\\x41", b"\\xZZ", b"x41", b"%", b"%4", b"%41", b"%25", b"%%",
    b">", b" > ", b"#", b"@", b"@12", b":", b"/", b" ", b"a", b"Z", b".", b"..",
    b"\x00", b"\n", b"\r", b"\t", b"\x1b", b"\x7f",
    "\u0085".encode(), "\u009f".encode(), "\u00a0".encode(), "\u2028".encode(), "\u2029".encode(),
    "\u202e".encode(), "\u200b".encode(), "\ufeff".encode(), "\u061c".encode(), "\u2066".encode(),
    b"\x80", b"\xbf", b"\xc0\xaf", b"\xc3", b"\xe9", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xff", b"\xfe",
    "é".encode(), "日本".encode(), "\U0001f600".encode(), "e\u0301".encode(),
]
# Characters a shown name may not contain raw: they break lines, hide, or reorder text.
MUST_ESCAPE = {chr(c) for c in range(0x20)} | {chr(c) for c in range(0x7F, 0xA0)} | set(
    "\u2028\u2029\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b\ufeff")


def random_bytes(rng: random.Random, max_pieces: int = 12) -> bytes:
    out = bytearray()
    for _ in range(rng.randrange(0, max_pieces + 1)):
        out += rng.choice(PIECES) if rng.random() < 0.75 else bytes([rng.randrange(256)])
    return bytes(out)


# -- names -----------------------------------------------------------------------------------

def test_escape_round_trips_random_bytes() -> None:
    rng = random.Random(20240601)
    for _ in range(CASES):
        raw = random_bytes(rng)
        name = names.decode(raw)
        shown = names.escape(name)
        assert names.encode(names.unescape(shown)) == raw, (raw, shown)
        assert names.unescape(shown) == name
        assert not (set(shown) & MUST_ESCAPE), (raw, shown)
        assert all(not 0xDC80 <= ord(c) <= 0xDCFF for c in shown), (raw, shown)
        shown.encode("utf-8")  # always printable as UTF-8: no lone surrogates left
        assert names.is_clean(name) == (shown == name and "\\" not in name), (raw, shown)


def test_escape_of_fully_random_bytes() -> None:
    rng = random.Random(7)
    for _ in range(CASES // 4):
        raw = rng.randbytes(rng.randrange(0, 40))
        shown = names.escape(names.decode(raw))
        assert names.encode(names.unescape(shown)) == raw


def test_escape_is_injective() -> None:
    rng = random.Random(99)
    seen: dict[str, bytes] = {}
    for _ in range(CASES):
        raw = random_bytes(rng, 6)
        shown = names.escape(names.decode(raw))
        assert seen.setdefault(shown, raw) == raw, (shown, raw, seen[shown])


@pytest.mark.parametrize("raw,shown", [
    (b"plain.txt", "plain.txt"),
    (b"caf\xe9.txt", "caf\\xe9.txt"),
    ("café.txt".encode(), "café.txt"),
    (b"a\\b", "a\\\\b"),
    (b"a\\x41", "a\\\\x41"),
    (b"line\nbreak", "line\\x0abreak"),
    (b"nul\x00", "nul\\x00"),
    (b"del\x7f", "del\\x7f"),
    ("c1\u0085".encode(), "c1\\xc2\\x85"),
    ("invoice\u202egpj.exe".encode(), "invoice\\xe2\\x80\\xaegpj.exe"),
    ("ls\u2028sep".encode(), "ls\\xe2\\x80\\xa8sep"),
    ("\ufeffbom".encode(), "\\xef\\xbb\\xbfbom"),
    (b"\xed\xa0\x80", "\\xed\\xa0\\x80"),
    ("日本\U0001f600".encode(), "日本\U0001f600"),
])
def test_escape_examples(raw: bytes, shown: str) -> None:
    assert names.escape(names.decode(raw)) == shown
    assert names.encode(names.unescape(shown)) == raw


def test_unescape_is_lenient_with_what_people_type() -> None:
    # A backslash that starts no escape is kept as typed; so is \x without two hex digits.
    assert names.unescape("a\\b") == "a\\b"
    assert names.unescape("\\xZZ") == "\\xZZ"
    assert names.unescape("\\x4") == "\\x4"
    assert names.unescape("\\X41") == "\\X41"
    assert names.unescape("\\x41\\X41") == "A\\X41"
    assert names.unescape("\\xC3\\xA9") == "é"  # escaped UTF-8 bytes name the same file as the character


# -- locators --------------------------------------------------------------------------------

KINDS = ["ewf", "raw", "split", "vmdk", "vhdx", "qcow", "dos", "gpt", "ntfs", "ext4", "apfs", "apfs_fs",
         "zip", "tar", "member", "dir", "file"]


def random_layer(rng: random.Random) -> Layer:
    value = names.decode(random_bytes(rng, 8))
    offset = rng.choice([None, None, 0, 512, 65536, 2**40 + 7])
    address = rng.choice([None, None, "", "5", "1234-128-1", names.decode(random_bytes(rng, 4))])
    return Layer(rng.choice(KINDS), value, offset, address)


def test_locator_round_trips() -> None:
    rng = random.Random(314159)
    for _ in range(CASES):
        loc = Locator(tuple(random_layer(rng) for _ in range(rng.randrange(1, 5))))
        text = str(loc)
        assert Locator.parse(text) == loc, (loc, text)
        assert len(text.splitlines()) == 1 and "\n" not in text, text  # one line of text, always
        assert all(not 0xDC80 <= ord(c) <= 0xDCFF for c in text)
        assert text.count(SEPARATOR) == len(loc.layers) - 1


def test_locators_of_different_entries_differ() -> None:
    rng = random.Random(2718)
    seen: dict[str, Locator] = {}
    for _ in range(CASES):
        loc = Locator(tuple(random_layer(rng) for _ in range(rng.randrange(1, 4))))
        assert seen.setdefault(str(loc), loc) == loc, (str(loc), loc, seen[str(loc)])


def test_sibling_paths_never_share_a_locator() -> None:
    """Paths that differ only in characters the encoding touches stay distinct."""
    base = Locator((Layer("ewf", "case.E01"), Layer("dos", "vol2", offset=65536)))
    raw_paths = [b"/a>b", b"/a%3Eb", b"/a%253Eb", b"/a#1", b"/a%231", b"/a@1", b"/a%401", b"/a\xe9", b"/a%E9",
                 "/aé".encode(), b"/a\xc3", b"/a\n", b"/a%0A", b"/a\\x0a", b"/a b", b"/a  b", b"/a > b",
                 "/a\u0085".encode(), b"/a%C2%85", "/a\u2028".encode(), b"/a%E2%80%A8", b"/a", b"/a/"]
    texts = set()
    for raw in raw_paths:
        loc = base.child(Layer("ntfs", names.decode(raw), address="42"))
        text = str(loc)
        assert text not in texts, (raw, text)
        texts.add(text)
        back = Locator.parse(text)
        assert names.encode(back.layers[-1].value) == raw


def test_locator_examples() -> None:
    loc = Locator((Layer("ewf", "case 1.E01"), Layer("dos", "vol2", offset=65536),
                   Layer("ntfs", "/Users/x/a>b#c@d%e\nf", address="1234-128-1")))
    text = str(loc)
    assert text == "ewf:case 1.E01 > dos:vol2@65536 > ntfs:/Users/x/a%3Eb%23c%40d%25e%0Af#1234-128-1"
    assert Locator.parse(text) == loc
    odd = Locator((Layer("zip", "x.zip"), Layer("member", names.decode(b"/caf\xe9\x00"), address="")))
    assert str(odd) == "zip:x.zip > member:/caf%E9%00#"
    assert Locator.parse(str(odd)) == odd


def test_locator_parse_rejects_garbage() -> None:
    for text in ["", "no-colon", "UPPER:x", "raw:x@notanumber", "raw:a#b#c", "raw:x > ", " > raw:x"]:
        with pytest.raises(ValueError):
            Locator.parse(text)


def test_entry_locators_match_layer_syntax() -> None:
    """The fast path that builds entry locators as text agrees with Layer's own printing."""
    from evkit.sources.logical.archive import ArchiveTree

    rng = random.Random(5)
    tree = ArchiveTree("zip", "evidence.zip", lambda member: None)  # type: ignore[arg-type,return-value]
    for _ in range(2000):
        path = "/" + names.decode(random_bytes(rng, 6)).replace("/", "_")
        address = str(rng.randrange(10**6))
        fast = tree.entry_locator("member", path, address) if hasattr(tree, "entry_locator") else None
        expected = str(tree.locator.child(Layer("member", path, address=address)))
        if fast is not None:
            assert fast == expected
        assert Locator.parse(expected).layers[-1] == Layer("member", path, address=address)


def test_normalisation_forms_stay_distinct() -> None:
    composed = "/caf\u00e9"
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    a = Locator((Layer("file", composed),))
    b = Locator((Layer("file", decomposed),))
    assert str(a) != str(b)
    assert names.escape(composed) != names.escape(decomposed)
