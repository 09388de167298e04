"""``evkit case init|add|sign|keygen``: making a case folder and registering evidence in it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from evkit.cli import common
from evkit.errors import EXIT_MISMATCH

app = typer.Typer(help="Create a case folder, register evidence, sign the case.", no_args_is_help=True)


@app.command("init")
def init(
    case: Annotated[Path, typer.Argument(help="New (or empty) case folder.")],
    case_number: Annotated[str, typer.Option("--case-number", help="The agency's case number.")],
    examiner: Annotated[str, typer.Option("--examiner", help="Who does the work (recorded in every custody event).")],
    agency: Annotated[Optional[str], typer.Option("--agency", help="The examining agency or lab, shown on reports.")] = None,
    notes: Annotated[Optional[str], typer.Option("--notes", help="Free-text notes on the case, shown on reports.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: the case folder and its metadata.")] = False,
) -> None:
    """Create a case folder: a BagIt bag with case.db and an empty custody log."""
    from evkit.case.case import Case

    with Case.init(case, case_number, examiner, agency, notes) as c:
        data = {"case": str(case), **c.meta}
    if json_out:
        common.emit_json(data)
    elif not common.SETTINGS.quiet:
        print(f"case {case_number} created in {case}", file=sys.stderr)


@app.command("add")
def add(
    case: Annotated[Path, typer.Argument(help="Case folder.")],
    source: Annotated[str, typer.Argument(help="Evidence: image file (first segment), archive or folder.")],
    evidence_number: Annotated[str, typer.Option("--evidence-number", help="Evidence item number, e.g. E1.")],
    description: Annotated[Optional[str], typer.Option("--description", help="What the item is (e.g. \"Seized laptop disk\"), shown on reports.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: the evidence item's format, size and hashes.")] = False,
) -> None:
    """Register evidence: hash the whole media, verify an E01's stored hashes, record its layout."""
    from evkit.case.case import Case
    from evkit.case.evidence import add_evidence

    from evkit.case.browse import same_evidence

    with Case(case) as c:
        row = add_evidence(c, source, evidence_number, description)
    for twin in same_evidence(case, evidence_number):
        common.warn(f"{evidence_number} has the same SHA-256 as evidence {twin}: the same evidence added twice?")
    out = {k: row.get(k) for k in ("number", "source_path", "format", "media_size", "md5", "sha1", "sha256", "verified", "already_registered")}
    out["stored_hashes"] = json.loads(row["stored_hashes"]) if isinstance(row.get("stored_hashes"), str) else row.get("stored_hashes")
    if json_out:
        common.emit_json(out)
    else:
        state = {1: "verified against stored hashes", 0: "MISMATCH with stored hashes", None: "no stored hashes to verify"}[out["verified"]]
        again = " (already registered; nothing changed)" if out.get("already_registered") else ""
        print(f"{evidence_number}: {out['format']}, {out['media_size']} bytes, sha256 {out['sha256']}, {state}{again}")
    if out["verified"] == 0:
        raise typer.Exit(common.error(f"{source}: media hash does not match the hash stored at acquisition", EXIT_MISMATCH))


@app.command("sign")
def sign(
    case: Annotated[Path, typer.Argument(help="Case folder.")],
    key: Annotated[Path, typer.Option("--key", help="Ed25519 private key (PEM), e.g. from `evkit case keygen`.")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: what was signed and the key's fingerprint.")] = False,
) -> None:
    """Write a detached Ed25519 signature over the tag manifest (which covers every file)."""
    from evkit.case.case import Case
    from evkit.case.signing import _load_private, fingerprint, sign_case

    from cryptography.hazmat.primitives import serialization

    pub = _load_private(key).public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with Case(case) as c:
        with c.run("case-sign", [], details={"key_fingerprint": fingerprint(pub)}):
            pass
        result = sign_case(case, key)
    if json_out:
        common.emit_json(result)
    else:
        print(f"signed {result['signed']} with key {result['fingerprint']}")


@app.command("keygen")
def keygen(
    key: Annotated[Path, typer.Argument(help="Where to write the new private key (PEM); the public key goes to KEY.pub.")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: both keys' paths and the public key's fingerprint.")] = False,
) -> None:
    """Make an Ed25519 key pair for `evkit case sign`."""
    from evkit.case.signing import fingerprint, generate_key

    pub = generate_key(key)
    if json_out:
        common.emit_json({"private_key": common.shown(str(key.absolute())), "public_key": common.shown(str(pub.absolute())),
                          "fingerprint": fingerprint(pub.read_bytes())})
    else:
        print(f"private key: {key}\npublic key:  {pub}")


@app.command("show")
def show(
    case: Annotated[Path, typer.Argument(help="Case folder.")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: case facts, evidence with record counts per profile, tags, custody, signature.")] = False,
) -> None:
    """The case at a glance: evidence, record counts per evidence item and profile, tags, signature.

    Reads the case without changing it (nothing is logged or re-hashed; `evkit verify` checks it).
    """
    from evkit.case.browse import case_summary

    s = case_summary(case)
    if json_out:
        common.emit_json(s)
        return
    print(f"case {common.shown(s['case_number'] or '?')}: examiner {common.shown(s['examiner'] or '?')}"
          + (f", {common.shown(s['agency'])}" if s["agency"] else "") + f", created {s['created']}")
    for e in s["evidence"]:
        verified = {True: "acquisition hash matched", False: "ACQUISITION HASH MISMATCH", None: "no stored hash"}[e["verified"]]
        size = f"{e['size']:,} bytes" if e["size"] is not None else "size unknown"
        files = f", {e['files']:,} file{'s' if e['files'] != 1 else ''}" if e["folder"] or e["files"] > 1 else ""
        print(f"evidence {common.shown(e['number'])}: {common.shown(e['source'])} ({e['format']}, {size}{files}); "
              f"sha256 {e['sha256'] or '-'}; {verified}" + (f"; {common.shown(e['description'])}" if e["description"] else ""))
        counts = ", ".join(f"{p} {n:,}" for p, n in e["records_by_profile"].items()) or "none"
        print(f"  records: {e['records']:,} ({counts})")
    print(f"records: {s['records']:,}; tags: {s['tags']:,} on {s['tagged_records']:,} records; custody events: {s['custody_events']:,}"
          + (f" (last: {s['last_event']['seq']} {s['last_event']['action']} at {s['last_event']['time']})" if s["last_event"] else ""))
    if s["interrupted_run"]:
        print("an interrupted run is pending: run the same command again to finish it")
    sig = s["signature"]
    if sig is None:
        print("signature: none")
    else:
        print(f"signature: {'valid' if sig['valid'] else 'INVALID'}, key {sig['fingerprint']}"
              + (f", signed at custody event {sig['signed_at_event']}" if sig.get("signed_at_event") else "")
              + (f" ({sig['reason']})" if sig.get("reason") else ""))


@app.command("abandon-run")
def abandon_run(
    case: Annotated[Path, typer.Argument(help="Case folder.")],
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: the run abandoned, the rows kept, the files set aside.")] = False,
) -> None:
    """End an interrupted run without resuming it (custody event run-abandoned).

    For a run that cannot finish (it failed twice the same way, or its evidence is gone): what it
    committed stays in the case, covered by the new event; files it left without a record are moved
    to CASE/abandoned/run-<seq>/ (outside the bag's payload), not deleted.
    """
    from evkit.case.case import Case

    with Case(case) as c:
        result = c.abandon_run()
    if json_out:
        common.emit_json(result)
    else:
        a = result["abandoned"]
        print(f"custody event {result['seq']}: abandoned the interrupted `{a.get('action')}` run started {a.get('started')}; "
              f"kept {result['kept_rows']['artefacts']} artefacts and {result['kept_rows']['records']} records, "
              f"set aside {len(result['set_aside'])} files under abandoned/run-{result['seq']}/")
