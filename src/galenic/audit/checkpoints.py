"""Signed checkpoints of the audit chain, kept outside the database. Pure: no Django import.

A checkpoint says "event #seq of the trail whose first event hashes to ``chain`` has hash
``head``", signed with an Ed25519 key. A database rolled back to an older copy, or with its tail
cut off, no longer reaches the last checkpoint; a rewritten history no longer matches it.

Files under the checkpoint directory:
- ``checkpoints.jsonl``: one signed checkpoint per line, appended and fsynced (file and directory);
- ``audit-ed25519.pub``: the public key, so a verifier without the private key can check them.

The private key (PEM, mode 0600) is created on first use. The per-row sealing key is derived from
it (HKDF), so there is one secret to protect and back up.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CHECKPOINT_FILE = "checkpoints.jsonl"
PUBLIC_KEY_FILE = "audit-ed25519.pub"
SIGNING_DOMAIN = b"galenic-audit-checkpoint-v1\n"
SEAL_INFO = b"galenic-audit-seal-v1"


class CheckpointError(RuntimeError):
    """The key or the checkpoint file cannot be read or written."""


# --- durable file helpers ---------------------------------------------------------------------


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _make_dirs(path: Path, mode: int) -> None:
    """mkdir -p, fsyncing each parent whose entry we created."""
    missing = []
    current = path
    while not current.exists():
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            directory.mkdir(mode=mode)
        fsync_dir(directory.parent)


# --- keys ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditKeys:
    private: Ed25519PrivateKey
    seal_key: bytes
    fingerprint: str

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()


def _fingerprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _derive_seal_key(private: Ed25519PrivateKey) -> bytes:
    raw = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=SEAL_INFO).derive(raw)


def load_keys(key_file: Path, *, create: bool) -> AuditKeys:
    """Read the Ed25519 key; with ``create``, generate it (0600) if it does not exist yet.

    Several processes may start at once: the new key is written to a temporary file and linked
    into place, so exactly one key wins and nobody overwrites another's.
    """
    if not key_file.exists():
        if not create:
            raise CheckpointError(f"audit signing key not found at {key_file}")
        _make_dirs(key_file.parent, 0o700)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        tmp = key_file.with_name(f".{key_file.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, pem)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, key_file)
        except FileExistsError:
            pass  # another process won the race: use its key
        finally:
            tmp.unlink()
        fsync_dir(key_file.parent)
    try:
        loaded = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"cannot read audit signing key {key_file}: {exc}") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise CheckpointError(f"{key_file} is not an Ed25519 private key")
    return AuditKeys(loaded, _derive_seal_key(loaded), _fingerprint(loaded.public_key()))


def write_public_key(directory: Path, keys: AuditKeys) -> Path:
    path = directory / PUBLIC_KEY_FILE
    pem = keys.public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if path.exists() and path.read_bytes() == pem:
        return path
    _make_dirs(directory, 0o755)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(pem)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fsync_dir(directory)
    return path


def load_public_key(directory: Path) -> Ed25519PublicKey | None:
    path = directory / PUBLIC_KEY_FILE
    if not path.exists():
        return None
    public = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(public, Ed25519PublicKey):
        raise CheckpointError(f"{path} is not an Ed25519 public key")
    return public


# --- checkpoints --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    head: str
    chain: str  # hash of event #1: which trail this checkpoint belongs to
    database: str  # where the trail lived when signed (for people; matching uses ``chain``)
    at: str  # server time, UTC, ISO 8601
    key: str  # fingerprint of the signing key
    kind: str = "periodic"  # periodic | manual | legacy-unsealed
    sig: str = ""
    line: int = 0  # 1-based line in the checkpoint file (not signed)

    def signed_fields(self) -> dict[str, Any]:
        return {
            "v": 1,
            "seq": self.seq,
            "head": self.head,
            "chain": self.chain,
            "database": self.database,
            "at": self.at,
            "key": self.key,
            "kind": self.kind,
        }


def _message(fields: dict[str, Any]) -> bytes:
    return SIGNING_DOMAIN + json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()


def sign(checkpoint: Checkpoint, keys: AuditKeys) -> Checkpoint:
    signature = keys.private.sign(_message(checkpoint.signed_fields()))
    return Checkpoint(**{**_plain(checkpoint), "sig": base64.b64encode(signature).decode("ascii")})


def _plain(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "seq": checkpoint.seq,
        "head": checkpoint.head,
        "chain": checkpoint.chain,
        "database": checkpoint.database,
        "at": checkpoint.at,
        "key": checkpoint.key,
        "kind": checkpoint.kind,
    }


def signature_valid(checkpoint: Checkpoint, public: Ed25519PublicKey) -> bool:
    try:
        public.verify(base64.b64decode(checkpoint.sig), _message(checkpoint.signed_fields()))
    except (InvalidSignature, ValueError):
        return False
    return True


def append(directory: Path, checkpoint: Checkpoint) -> None:
    """Append one signed checkpoint durably: O_APPEND under an exclusive lock, fsync file + dir."""
    _make_dirs(directory, 0o755)
    line = json.dumps({**checkpoint.signed_fields(), "sig": checkpoint.sig}, sort_keys=True) + "\n"
    path = directory / CHECKPOINT_FILE
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        data = line.encode("utf-8")
        written = os.write(fd, data)
        if written != len(data):
            raise CheckpointError(f"short write to {path}")
        os.fsync(fd)
    finally:
        os.close(fd)  # closing releases the lock
    fsync_dir(directory)


@dataclass
class CheckpointFile:
    checkpoints: list[Checkpoint] = field(default_factory=list)
    unreadable: list[tuple[int, str]] = field(default_factory=list)  # (line, why)


def read_all(directory: Path) -> CheckpointFile:
    path = directory / CHECKPOINT_FILE
    result = CheckpointFile()
    if not path.exists():
        return result
    with open(path, encoding="utf-8") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
                result.checkpoints.append(
                    Checkpoint(
                        seq=int(data["seq"]),
                        head=str(data["head"]),
                        chain=str(data["chain"]),
                        database=str(data["database"]),
                        at=str(data["at"]),
                        key=str(data["key"]),
                        kind=str(data.get("kind", "periodic")),
                        sig=str(data["sig"]),
                        line=number,
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                result.unreadable.append((number, f"not a checkpoint ({exc})"))
    return result
