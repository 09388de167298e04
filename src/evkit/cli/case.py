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
    agency: Annotated[Optional[str], typer.Option("--agency")] = None,
    notes: Annotated[Optional[str], typer.Option("--notes")] = None,
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
    description: Annotated[Optional[str], typer.Option("--description")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="One JSON object: the evidence item's format, size and hashes.")] = False,
) -> None:
    """Register evidence: hash the whole media, verify an E01's stored hashes, record its layout."""
    from evkit.case.case import Case
    from evkit.case.evidence import add_evidence

    with Case(case) as c:
        row = add_evidence(c, source, evidence_number, description)
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
