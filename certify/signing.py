"""Ed25519 signing keys, their rotation and publication, and the offline verification of certificate documents."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from certify.domain.canonical import canonical_json, sha256_hex

ALG = "Ed25519"
_PRIVATE_KEY_MODE = 0o600
_PUBLIC_FILE_MODE = 0o644


def load_or_create_private_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Reads the PEM (PKCS8, unencrypted) key at path, creating it first if there is none.

    Two processes starting at once both end up with the key that reached the disk first.
    """
    path = Path(path)
    try:
        return _read_private_key(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    try:
        _create_exclusively(path, _private_key_pem(key), _PRIVATE_KEY_MODE)
    except FileExistsError:
        return _read_private_key(path)
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    """The key's id: the first 16 hex characters of the SHA-256 of its 32 raw bytes."""
    return sha256_hex(_raw_public_bytes(public_key))[:16]


def verification_code(signature_b64: str) -> str:
    """The code printed on the certificate: the first 12 hex characters of the SHA-256 of the raw signature.

    Raises ValueError when signature_b64 is not base64.
    """
    return sha256_hex(base64.b64decode(signature_b64, validate=True))[:12]


@dataclass(frozen=True)
class RetiredKey:
    key_id: str
    public_key: Ed25519PublicKey
    retired_at: str


class Keyring:
    """The current signing key and the retired public keys that old certificates were signed with."""

    def __init__(self, private_key: Ed25519PrivateKey, retired: Iterable[RetiredKey] = ()) -> None:
        self._private_key = private_key
        self.current_key_id = key_id(private_key.public_key())
        # A rotation interrupted between its two writes lists the current key as retired too: publish it once.
        self.retired = tuple(key for key in retired if key.key_id != self.current_key_id)
        # Fixed for the keyring's life, and every public verification reads them: encoded once.
        self._published = (_published(self.current_key_id, private_key.public_key(), "current"),
                           *(_published(key.key_id, key.public_key, "retired") for key in self.retired))

    @classmethod
    def load(cls, private_key_path: str | os.PathLike[str],
             retired_keys_path: str | os.PathLike[str]) -> Keyring:
        return cls(load_or_create_private_key(private_key_path), _read_retired_keys(Path(retired_keys_path)))

    def sign(self, certificate: dict[str, Any]) -> tuple[str, str]:
        """Signs canonical_json(certificate); returns (key_id, base64 signature)."""
        signature = self._private_key.sign(canonical_json(certificate))
        return self.current_key_id, base64.b64encode(signature).decode("ascii")

    def published_keys(self) -> list[dict[str, str]]:
        """The keys of /.well-known/certify-keys.json, current first."""
        return [dict(key) for key in self._published]

    def public_key_for(self, wanted_key_id: str) -> Ed25519PublicKey | None:
        if wanted_key_id == self.current_key_id:
            return self._private_key.public_key()
        for key in self.retired:
            if key.key_id == wanted_key_id:
                return key.public_key
        return None


def rotate_key(private_key_path: str | os.PathLike[str], retired_keys_path: str | os.PathLike[str],
               retired_at: str | None = None) -> Keyring:
    """Retires the current key and replaces it with a new one; returns the new keyring.

    The retired file is written before the key is replaced, so a crash in between never loses the
    public key that existing certificates verify against. Not meant to run twice at the same moment.
    """
    private_key_path, retired_keys_path = Path(private_key_path), Path(retired_keys_path)
    old_key = load_or_create_private_key(private_key_path)
    old_public = old_key.public_key()
    retired = [key for key in _read_retired_keys(retired_keys_path) if key.key_id != key_id(old_public)]
    retired.append(RetiredKey(key_id(old_public), old_public, retired_at or _utc_now()))
    document = {"keys": [{"key_id": key.key_id, "alg": ALG, "public_key": _b64_public(key.public_key),
                          "retired_at": key.retired_at} for key in retired]}
    _replace_atomically(retired_keys_path, json.dumps(document, indent=2).encode("utf-8") + b"\n",
                        _PUBLIC_FILE_MODE)
    new_key = Ed25519PrivateKey.generate()
    _replace_atomically(private_key_path, _private_key_pem(new_key), _PRIVATE_KEY_MODE)
    return Keyring(new_key, retired)


@dataclass(frozen=True)
class VerificationResult:
    valid_signature: bool
    key_id: str | None
    reason: str | None = None


def verify_certificate_document(document: Any, published_keys: Any) -> VerificationResult:
    """Checks a certificate document against published keys, offline; never raises on malformed input.

    The signature must verify over canonical_json(document["certificate"]) with the published key
    named by key_id, and the verification_code, when present, must be the one of that signature.
    """
    if not isinstance(document, dict):
        return VerificationResult(False, None, "the document is not a JSON object")
    claimed_key_id = document.get("key_id")
    if not isinstance(claimed_key_id, str) or not claimed_key_id:
        return VerificationResult(False, None, "key_id is missing or not a string")

    def invalid(reason: str) -> VerificationResult:
        return VerificationResult(False, claimed_key_id, reason)

    certificate = document.get("certificate")
    if not isinstance(certificate, dict):
        return invalid("certificate is missing or not a JSON object")
    signature_b64 = document.get("signature")
    if not isinstance(signature_b64, str):
        return invalid("signature is missing or not a string")
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return invalid("signature is not valid base64")
    if len(signature) != 64:
        return invalid("signature is not 64 bytes long, as Ed25519 signatures are")
    public_key = _find_published_key(published_keys, claimed_key_id)
    if public_key is None:
        return invalid(f"no published Ed25519 key has key_id {claimed_key_id}")
    try:
        signed_bytes = canonical_json(certificate)
    except (TypeError, ValueError, RecursionError):
        return invalid("certificate holds values that have no canonical JSON form")
    try:
        public_key.verify(signature, signed_bytes)
    except InvalidSignature:
        return invalid("the signature does not match the certificate")
    if "verification_code" in document:
        code = document["verification_code"]
        if not isinstance(code, str) or code != sha256_hex(signature)[:12]:
            return invalid("verification_code does not match the signature")
    return VerificationResult(True, claimed_key_id)


def _find_published_key(published_keys: Any, wanted_key_id: str) -> Ed25519PublicKey | None:
    """The Ed25519 key published under wanted_key_id; malformed entries are skipped, not fatal."""
    if not isinstance(published_keys, (list, tuple)):
        return None
    for entry in published_keys:
        if not isinstance(entry, dict) or entry.get("key_id") != wanted_key_id or entry.get("alg") != ALG:
            continue
        try:
            return _public_key_from_b64(entry.get("public_key"))
        except (TypeError, ValueError):
            continue
    return None


def _public_key_from_b64(value: Any) -> Ed25519PublicKey:
    if not isinstance(value, str):
        raise TypeError("public_key must be a base64 string")
    return _decoded_public_key(value)


# A verifier meets the same few published keys again and again: each is decoded once.
@functools.lru_cache(maxsize=64)
def _decoded_public_key(value: str) -> Ed25519PublicKey:
    raw = base64.b64decode(value, validate=True)
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def _published(kid: str, public_key: Ed25519PublicKey, status: str) -> dict[str, str]:
    return {"key_id": kid, "alg": ALG, "public_key": _b64_public(public_key), "status": status}


def _raw_public_bytes(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _b64_public(public_key: Ed25519PublicKey) -> str:
    return base64.b64encode(_raw_public_bytes(public_key)).decode("ascii")


def _private_key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _read_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def _read_retired_keys(path: Path) -> list[RetiredKey]:
    """Parses the retired-keys file; a missing file means none. A damaged one stops the service loudly."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    retired = []
    for entry in document["keys"]:
        if entry.get("alg") != ALG:
            raise ValueError(f"{path}: key {entry.get('key_id')} is not an {ALG} key")
        public_key = _public_key_from_b64(entry["public_key"])
        if key_id(public_key) != entry["key_id"]:
            raise ValueError(f"{path}: key_id {entry['key_id']} does not belong to its public key")
        retired.append(RetiredKey(entry["key_id"], public_key, entry.get("retired_at", "")))
    return retired


def _write_temporary(directory: Path, name: str, data: bytes, mode: int) -> Path:
    """Writes data to a new file beside its destination, created with mode from the start (never wider)."""
    temporary = directory / f".{name}.{secrets.token_hex(8)}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return temporary


def _create_exclusively(path: Path, data: bytes, mode: int) -> None:
    """Creates path with data, complete or not at all; FileExistsError when it already exists.

    Linking a finished temporary file into place means a concurrent reader never sees a half-written key.
    """
    temporary = _write_temporary(path.parent, path.name, data, mode)
    try:
        os.link(temporary, path)
    finally:
        temporary.unlink()
    _fsync_directory(path.parent)


def _replace_atomically(path: Path, data: bytes, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _write_temporary(path.parent, path.name, data, mode)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
