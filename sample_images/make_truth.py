#!/usr/bin/env python3
"""Helper for sample_images/generate.sh (python3 standard library only).

Sub-commands:

  bytes   --seed S --size N [--head HEX] OUT
          Write N deterministic pseudo-random bytes (SHA-256 in counter mode
          over the seed string, so the output never depends on the Python
          version), optionally starting with the bytes HEX.

  files   --manifest M --dir D --out-dir T
          For every image named in the manifest written by generate.sh, list
          each volume with TSK (fls -r -p), find every entry the generator
          created, read its content back with icat and write
          T/<image>.files.tsv.  Fails loudly when an allocated entry is
          missing or its content read by TSK differs from what was written.
          When D/<image>.E01 or D/<image>.split.000 exist, fls output on them
          must equal the output on the .raw file.

  images  --manifest M --dir D --out FILE [--ewf-header KEY=VALUE ...]
          Write images.json: sizes and hashes of every image file, the media
          hashes, the partition table as mmls prints it, the file system of
          each partition, and for the E01 the header values and stored hashes.

The manifest is a tab-separated file with these kinds of line:

  disk <image> <key> <value>       (disk identifiers, copied to images.json)
  vol  <image> <part> <start sector> <fs_type> <label> <volume id>
  add  <image> <part> <type> <path> <source file | link target | empty>
  del  <image> <part> <path>        (the path and everything below it)

Paths use the escaping of the truth files: bytes that are not valid UTF-8,
'%' and control characters are written as %XX (upper-case hex).
"""

import argparse
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

# --------------------------------------------------------------------------
# path escaping


def escape_path(raw: bytes) -> str:
    """bytes -> str; invalid UTF-8 bytes, '%' and control chars become %XX."""
    out = []
    i = 0
    n = len(raw)
    while i < n:
        # find the longest valid UTF-8 sequence starting at i (1..4 bytes)
        for ln in (1, 2, 3, 4):
            chunk = raw[i:i + ln]
            try:
                ch = chunk.decode("utf-8")
            except UnicodeDecodeError:
                continue
            break
        else:
            out.append("%%%02X" % raw[i])
            i += 1
            continue
        if ch == "%" or ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("%%%02X" % ord(ch))
        else:
            out.append(ch)
        i += len(chunk)
    return "".join(out)


def unescape_path(s: str) -> bytes:
    out = bytearray()
    i = 0
    while i < len(s):
        if s[i] == "%":
            out.append(int(s[i + 1:i + 3], 16))
            i += 3
        else:
            out += s[i].encode("utf-8")
            i += 1
    return bytes(out)


# --------------------------------------------------------------------------
# helpers


def die(msg: str) -> None:
    sys.stderr.write("make_truth.py: ERROR: %s\n" % msg)
    sys.exit(1)


def warn(msg: str) -> None:
    sys.stderr.write("make_truth.py: note: %s\n" % msg)


def run(cmd, check=True) -> bytes:
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if check and p.returncode != 0:
        die("command failed (%d): %s\n%s" % (p.returncode, " ".join(cmd),
                                             p.stderr.decode(errors="replace")))
    return p.stdout


def hashes_of_stream(chunks):
    md5, sha1, sha256 = hashlib.md5(), hashlib.sha1(), hashlib.sha256()
    size = 0
    for c in chunks:
        md5.update(c)
        sha1.update(c)
        sha256.update(c)
        size += len(c)
    return {"size": size, "md5": md5.hexdigest(), "sha1": sha1.hexdigest(),
            "sha256": sha256.hexdigest()}


def file_chunks(paths):
    for p in paths:
        with open(p, "rb") as f:
            while True:
                b = f.read(1 << 20)
                if not b:
                    break
                yield b


def file_info(path):
    d = {"name": os.path.basename(path)}
    d.update(hashes_of_stream(file_chunks([path])))
    return d


# --------------------------------------------------------------------------
# manifest


class Manifest:
    def __init__(self, path):
        self.vols = {}      # (image, part) -> dict
        self.entries = []   # dicts in creation order
        self.disk = {}      # image -> {key: value}
        with open(path, encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line:
                    continue
                t = line.split("\t")
                if t[0] == "vol":
                    _, image, part, start, fs_type, label, volid = t
                    self.vols[(image, part)] = {
                        "image": image, "part": part, "start": int(start),
                        "fs_type": fs_type, "label": label, "volume_id": volid}
                elif t[0] == "disk":
                    _, image, key, value = t
                    self.disk.setdefault(image, {})[key] = value
                elif t[0] == "add":
                    _, image, part, typ, path, src = t
                    if (image, part) not in self.vols:
                        die("manifest line %d: unknown volume" % lineno)
                    self.entries.append({
                        "image": image, "part": part, "type": typ,
                        "path": path, "src": src, "deleted": 0})
                elif t[0] == "del":
                    _, image, part, path = t
                    hit = False
                    for e in self.entries:
                        if (e["image"], e["part"]) == (image, part) and (
                                e["path"] == path or
                                e["path"].startswith(path + "/")):
                            e["deleted"] = 1
                            hit = True
                    if not hit:
                        die("manifest line %d: nothing to delete" % lineno)
                else:
                    die("manifest line %d: unknown kind %r" % (lineno, t[0]))

    def images(self):
        seen = []
        for (image, _part) in self.vols:
            if image not in seen:
                seen.append(image)
        return seen


# --------------------------------------------------------------------------
# TSK parsing

MMLS_RE = re.compile(r"^(\d+):\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(.*)$")


def mmls(image):
    out = run(["mmls", image]).decode("utf-8", errors="replace")
    rows = []
    table_type = out.splitlines()[0].strip() if out else ""
    for line in out.splitlines():
        m = MMLS_RE.match(line)
        if m:
            rows.append({"slot": int(m.group(1)), "table_slot": m.group(2),
                         "start": int(m.group(3)), "end": int(m.group(4)),
                         "length": int(m.group(5)),
                         "description": m.group(6).rstrip()})
    return table_type, rows


def slot_for_start(rows, start):
    found = [r for r in rows if r["start"] == start and
             r["table_slot"] not in ("Meta", "-------")]
    if len(found) != 1:
        die("no unique mmls partition starting at sector %d" % start)
    return found[0]


FLS_RE = re.compile(rb"^(\S+)\s+(\*\s+)?([0-9-]+)(\(realloc\))?:\t(.*)$")


def fls(image, start):
    out = run(["fls", "-r", "-p", "-o", str(start), image])
    rows = []
    for line in out.split(b"\n"):
        if not line:
            continue
        m = FLS_RE.match(line)
        if not m:
            die("cannot parse fls line %r" % line)
        rows.append({"type": m.group(1).decode(), "deleted": bool(m.group(2)),
                     "addr": m.group(3).decode(),
                     "realloc": bool(m.group(4)),
                     "path": b"/" + m.group(5)})
    return out, rows


def fuzzy_component(tsk: bytes, orig: bytes) -> bool:
    """A deleted FAT 8.3 entry loses its first byte; TSK shows it as '_'."""
    return tsk == orig or (len(tsk) == len(orig) and tsk[:1] == b"_"
                           and tsk[1:] == orig[1:])


def find_entry(rows, path: bytes, deleted: bool):
    exact = [r for r in rows if r["path"] == path and r["deleted"] == deleted]
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        die("several fls entries for %s" % escape_path(path))
    if not deleted:
        return None
    comps = path.split(b"/")
    fuzzy = []
    for r in rows:
        if not r["deleted"]:
            continue
        rc = r["path"].split(b"/")
        if len(rc) == len(comps) and all(
                fuzzy_component(a, b) for a, b in zip(rc, comps)):
            fuzzy.append(r)
    if len(fuzzy) > 1:
        die("several deleted fls entries could be %s" % escape_path(path))
    return fuzzy[0] if fuzzy else None


def link_target(image, start, addr):
    out = run(["istat", "-o", str(start), image, addr])
    for line in out.split(b"\n"):
        if line.startswith(b"symbolic link to: "):
            return line[len(b"symbolic link to: "):]
    return None


META_TYPE = {"file": "r", "ads": "r", "dir": "d", "link": "l"}

TSV_COLUMNS = ["volume", "fs_type", "path", "type", "size", "deleted", "md5",
               "recoverable", "original_name", "tsk_addr"]


def cmd_files(a):
    man = Manifest(a.manifest)
    os.makedirs(a.out_dir, exist_ok=True)
    for image in man.images():
        raw = os.path.join(a.dir, image + ".raw")
        _table, rows = mmls(raw)
        equivalents = [p for p in (os.path.join(a.dir, image + ".E01"),
                                   os.path.join(a.dir, image + ".split.000"))
                       if os.path.exists(p)]
        lines = ["\t".join(TSV_COLUMNS)]
        vols = [v for (img, _p), v in man.vols.items() if img == image]
        for vol in vols:
            slot = slot_for_start(rows, vol["start"])["slot"]
            out, listing = fls(raw, vol["start"])
            for eq in equivalents:
                eq_out, _ = fls(eq, vol["start"])
                if eq_out != out:
                    die("fls output on %s differs from %s" % (eq, raw))
            for e in man.entries:
                if (e["image"], e["part"]) != (image, vol["part"]):
                    continue
                orig = unescape_path(e["path"])
                deleted = bool(e["deleted"])
                r = find_entry(listing, orig, deleted)
                label = "%s:%s %s" % (image, vol["fs_type"], e["path"])
                if r is None:
                    if not deleted:
                        die("TSK does not list allocated entry " + label)
                    warn("TSK does not list deleted entry " + label)
                if r is not None:
                    want = META_TYPE[e["type"]]
                    have = r["type"].split("/")[-1]
                    if have != want:
                        msg = "%s: TSK type %s, expected %s" % (
                            label, r["type"], want)
                        if deleted:
                            warn(msg)
                        else:
                            die(msg)
                content = None
                if e["type"] in ("file", "ads"):
                    with open(e["src"], "rb") as f:
                        content = f.read()
                elif e["type"] == "link":
                    content = unescape_path(e["src"])
                recoverable = 0
                if r is not None:
                    if content is None:          # directory: listed is enough
                        recoverable = 1
                    elif e["type"] == "link":
                        # icat on an ext4 fast symlink returns zeros (TSK
                        # 4.11 reads "block 0"); istat shows the target.
                        got = link_target(raw, vol["start"], r["addr"])
                        if got == content:
                            recoverable = 1
                        elif not deleted:
                            die("istat link target of %s is %r, expected %r"
                                % (label, got, content))
                    else:
                        got = run(["icat", "-o", str(vol["start"]), raw,
                                   r["addr"]], check=not deleted)
                        if got == content:
                            recoverable = 1
                        elif not deleted:
                            die("icat content of %s (%s) differs from what was"
                                " written (%d vs %d bytes)" % (
                                    label, r["addr"], len(got), len(content)))
                if e["type"] in ("file", "ads"):
                    size = str(len(content))
                    md5 = hashlib.md5(content).hexdigest()
                elif e["type"] == "link":
                    size, md5 = str(len(content)), ""
                else:
                    size, md5 = "", ""
                tsk_path = escape_path(r["path"]) if r else e["path"]
                lines.append("\t".join([
                    str(slot), vol["fs_type"], tsk_path, e["type"], size,
                    str(e["deleted"]), md5, str(recoverable), e["path"],
                    r["addr"] if r else ""]))
        out_path = os.path.join(a.out_dir, image + ".files.tsv")
        with open(out_path, "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
        print("wrote %s (%d entries)" % (out_path, len(lines) - 1))


# --------------------------------------------------------------------------
# images.json


def fsstat_info(image, start):
    out = run(["fsstat", "-o", str(start), image]).decode("utf-8",
                                                          errors="replace")
    info = {}
    for line in out.splitlines():
        if ":" not in line:
            continue
        k, v = line.split(":", 1)
        k, v = k.strip(), v.strip()
        if k == "File System Type" and "tsk_type" not in info:
            info["tsk_type"] = v
        elif k in ("Volume Label (Boot Sector)", "Volume Name"):
            info.setdefault("label", v)
    return info


def partition_info(image, man, base):
    table, rows = mmls(image)
    fss = []
    for (img, part), vol in man.vols.items():
        if img != base:
            continue
        row = slot_for_start(rows, vol["start"])
        st = fsstat_info(image, vol["start"])
        if st.get("label") != vol["label"]:
            die("%s: fsstat label %r, expected %r" % (image, st.get("label"),
                                                     vol["label"]))
        fss.append({"volume": row["slot"], "partition": int(part),
                    "type": vol["fs_type"], "tsk_type": st.get("tsk_type"),
                    "offset_bytes": vol["start"] * 512,
                    "start_sector": vol["start"],
                    "length_sectors": row["length"],
                    "label": vol["label"], "volume_id": vol["volume_id"]})
    return {"type": table,
            "entries": [{"slot": r["slot"], "table_slot": r["table_slot"],
                         "start": r["start"], "end": r["end"],
                         "length": r["length"],
                         "description": r["description"]} for r in rows]}, fss


EWFINFO_KEYS = {
    "Case number": "case_number", "Description": "description",
    "Examiner name": "examiner_name", "Evidence number": "evidence_number",
    "Notes": "notes", "Acquisition date": "acquisition_date",
    "System date": "system_date", "Operating system used": "operating_system",
    "Software version used": "software_version",
    "File format": "file_format", "Sectors per chunk": "sectors_per_chunk",
    "Compression method": "compression_method",
    "Compression level": "compression_level", "Media type": "media_type",
    "Is physical": "is_physical", "Bytes per sector": "bytes_per_sector",
    "Number of sectors": "number_of_sectors", "MD5": "stored_md5",
    "SHA1": "stored_sha1",
}


def ewfinfo(path):
    out = run(["ewfinfo", path]).decode("utf-8", errors="replace")
    d = {}
    for line in out.splitlines():
        if ":" not in line:
            continue
        k, v = line.split(":", 1)
        k = k.strip()
        if k in EWFINFO_KEYS:
            v = v.strip()
            key = EWFINFO_KEYS[k]
            if key in ("sectors_per_chunk", "bytes_per_sector",
                       "number_of_sectors"):
                v = int(v)
            d[key] = v
    return d


def tsk_media_hashes(image):
    """Hash the media as TSK reads it (img_cat), streamed."""
    p = subprocess.Popen(["img_cat", image], stdout=subprocess.PIPE)

    def chunks():
        while True:
            b = p.stdout.read(1 << 20)
            if not b:
                break
            yield b
    h = hashes_of_stream(chunks())
    if p.wait() != 0:
        die("img_cat failed on " + image)
    return h


def cmd_images(a):
    man = Manifest(a.manifest)
    header_set = dict(kv.split("=", 1) for kv in (a.ewf_header or []))
    images = {}
    for base in man.images():
        raw = os.path.join(a.dir, base + ".raw")
        media = hashes_of_stream(file_chunks([raw]))
        table, fss = partition_info(raw, man, base)
        images[base + ".raw"] = {
            "format": "raw", "sector_size": 512,
            "files": [file_info(raw)], "media": media,
            "disk": man.disk.get(base, {}),
            "partition_table": table, "filesystems": fss}

        e01 = os.path.join(a.dir, base + ".E01")
        if os.path.exists(e01):
            segs = sorted(glob.glob(os.path.join(a.dir, base + ".E[0-9][0-9]"))
                          + glob.glob(os.path.join(a.dir, base + ".E[A-Z][A-Z]")))
            tm = tsk_media_hashes(e01)
            if tm != media:
                die("media read from %s differs from %s" % (e01, raw))
            info = ewfinfo(e01)
            if info.get("stored_md5") != media["md5"]:
                die("E01 stored MD5 differs from the raw MD5")
            if info.get("stored_sha1") != media["sha1"]:
                die("E01 stored SHA1 differs from the raw SHA1")
            for k, v in header_set.items():
                if info.get(k) != v:
                    die("E01 header %s is %r, expected %r" % (k, info.get(k), v))
            table, fss = partition_info(e01, man, base)
            images[base + ".E01"] = {
                "format": "ewf", "same_media_as": base + ".raw",
                "files": [file_info(s) for s in segs], "media": tm,
                "ewf": {"header_values_set": header_set, "ewfinfo": info,
                        "stored_md5": info.get("stored_md5"),
                        "stored_sha1": info.get("stored_sha1")},
                "partition_table": table, "filesystems": fss}

        segs = sorted(glob.glob(os.path.join(a.dir, base + ".split.[0-9][0-9][0-9]")))
        if segs:
            cm = hashes_of_stream(file_chunks(segs))
            if cm != media:
                die("concatenated split segments differ from " + raw)
            tm = tsk_media_hashes(segs[0])
            if tm != media:
                die("TSK reads %s differently from %s" % (segs[0], raw))
            table, fss = partition_info(segs[0], man, base)
            images[os.path.basename(segs[0])] = {
                "format": "split-raw", "same_media_as": base + ".raw",
                "segments": [file_info(s) for s in segs], "media": cm,
                "partition_table": table, "filesystems": fss}

    doc = {"generator": "sample_images/generate.sh",
           "truth_files": {b: b + ".files.tsv" for b in man.images()},
           "images": images}
    with open(a.out, "w", encoding="utf-8", newline="\n") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("wrote %s (%d images)" % (a.out, len(images)))


# --------------------------------------------------------------------------


def cmd_bytes(a):
    head = bytes.fromhex(a.head or "")
    need = a.size - len(head)
    if need < 0:
        die("--head longer than --size")
    buf = bytearray(head)
    counter = 0
    seed = a.seed.encode("utf-8")
    while len(buf) < a.size:
        buf += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1
    with open(a.out, "wb") as f:
        f.write(bytes(buf[:a.size]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bytes")
    b.add_argument("--seed", required=True)
    b.add_argument("--size", type=int, required=True)
    b.add_argument("--head")
    b.add_argument("out")
    f = sub.add_parser("files")
    f.add_argument("--manifest", required=True)
    f.add_argument("--dir", required=True)
    f.add_argument("--out-dir", required=True)
    i = sub.add_parser("images")
    i.add_argument("--manifest", required=True)
    i.add_argument("--dir", required=True)
    i.add_argument("--out", required=True)
    i.add_argument("--ewf-header", action="append")
    a = ap.parse_args()
    {"bytes": cmd_bytes, "files": cmd_files, "images": cmd_images}[a.cmd](a)


if __name__ == "__main__":
    main()
