"""Detached Ed25519 signatures over the tag manifest, which in turn covers every other file.

``signature.ed25519`` holds the raw signature and ``signature.pub`` the signer's public key
(PEM) so a reader can check the folder alone; to know *who* signed, compare the key's
fingerprint, or pass the expected key to ``evkit verify --public-key``.

A signature covers the case *as it was when signed*: the signed tag manifest is kept beside it
(``signature-tagmanifest-sha256.txt``), because every later command (a report, an export, a tag)
rewrites the live tag manifest. Verification checks the signature over that copy, then that the
custody log it covers is the beginning of today's log: later events are then an intact
continuation, listed as not covered by the signature, and the case is not called tampered.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from evkit.errors import UsageError

SIGNED_FILE = "tagmanifest-sha256.txt"
SIGNED_COPY = "signature-tagmanifest-sha256.txt"
CUSTODY_FILE = "custody.jsonl"


def _load_private(key: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        data = key.read_bytes()
    except OSError as exc:
        raise UsageError(f"{key}: cannot read the key ({exc.strerror})") from exc
    try:
        pk = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        if len(data) == 32:
            return Ed25519PrivateKey.from_private_bytes(data)
        raise UsageError(f"{key}: not an unencrypted PEM Ed25519 private key ({exc})") from exc
    if not isinstance(pk, Ed25519PrivateKey):
        raise UsageError(f"{key}: is not an Ed25519 key")
    return pk


def fingerprint(public_pem: bytes) -> str:
    return "SHA256:" + hashlib.sha256(public_pem.strip()).hexdigest()


def generate_key(path: Path) -> Path:
    """Write a new private key (PEM, mode 0600) and its public key beside it (``.pub``)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if path.exists():
        raise UsageError(f"{path}: exists; refusing to overwrite a key")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path.write_bytes(pem)
    path.chmod(0o600)
    pub = path.with_suffix(path.suffix + ".pub")
    pub.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return pub


def sign_case(root: Path, key: Path) -> dict[str, Any]:
    from cryptography.hazmat.primitives import serialization

    pk = _load_private(key)
    message = (root / SIGNED_FILE).read_bytes()
    pub = pk.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (root / SIGNED_COPY).write_bytes(message)
    (root / "signature.ed25519").write_bytes(pk.sign(message))
    (root / "signature.pub").write_bytes(pub)
    return {"signed": SIGNED_FILE, "fingerprint": fingerprint(pub),
            "tagmanifest_sha256": hashlib.sha256(message).hexdigest()}


def verify_signature(root: Path, public_key: Path | None = None) -> dict[str, Any]:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    pub_path = public_key or root / "signature.pub"
    try:
        pem = pub_path.read_bytes()
        pub = serialization.load_pem_public_key(pem)
    except (OSError, ValueError) as exc:
        return {"valid": False, "reason": f"cannot load public key {pub_path.name}: {exc}", "fingerprint": None}
    if not isinstance(pub, Ed25519PublicKey):
        return {"valid": False, "reason": f"{pub_path.name} is not an Ed25519 public key", "fingerprint": None}
    # Cases signed before the copy was kept: the live tag manifest is all there is to check.
    signed = root / SIGNED_COPY if (root / SIGNED_COPY).is_file() else root / SIGNED_FILE
    try:
        message = signed.read_bytes()
        pub.verify((root / "signature.ed25519").read_bytes(), message)
    except (InvalidSignature, OSError):
        return {"valid": False, "reason": f"does not match {signed.name} (it changed after signing, or another key signed it)",
                "fingerprint": fingerprint(pem)}
    result: dict[str, Any] = {"valid": True, "reason": None, "fingerprint": fingerprint(pem),
                              "key": "given" if public_key else "embedded"}
    signed_log = _manifest_entry(message, CUSTODY_FILE)
    at = _prefix_events(root / CUSTODY_FILE, signed_log) if signed_log else None
    if at is None:
        return {**result, "valid": False,
                "reason": f"the custody log the signature covers is not the beginning of today's {CUSTODY_FILE} "
                          "(events were changed or removed after signing)"}
    result["signed_at_event"] = at
    return result


def _manifest_entry(manifest: bytes, name: str) -> str | None:
    """The SHA-256 a tag manifest gives ``name``."""
    for line in manifest.decode("utf-8", "replace").splitlines():
        digest, _, path = line.partition("  ")
        if path == name:
            return digest.strip().lower()
    return None


def _prefix_events(log: Path, digest: str) -> int | None:
    """How many whole lines of ``log`` hash to ``digest`` (the log as it was signed), or None."""
    h = hashlib.sha256()
    if h.hexdigest() == digest:
        return 0
    try:
        with open(log, "rb") as fh:
            for number, line in enumerate(fh, start=1):
                h.update(line)
                if h.hexdigest() == digest:
                    return number
    except OSError:
        return None
    return None
