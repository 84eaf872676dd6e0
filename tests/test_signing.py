"""Signing keys, rotation and offline verification of certificate documents (api.md, Certificates)."""
import base64
import copy
import hashlib
import json
import multiprocessing
import os
import stat
import subprocess
import threading
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from certify import signing
from certify.signing import (Keyring, key_id, load_or_create_private_key, rotate_key, verification_code,
                             verify_certificate_document)


def make_certificate(**changes):
    certificate = {
        "number": "KR-RM-2026-000007", "batch_number": "B-2026-000041",
        "company": {"name": "한빛리사이클링 주식회사", "business_registration_no": "123-45-67890"},
        "facility": {"name": "오창 제2공장", "permit_no": "충북-2025-0042", "process": "hydrometallurgy"},
        "material_code": "NISO4", "grade": "battery", "quantity_kg": 10000,
        "production_start": "2026-02-01", "production_end": "2026-02-28",
        "recycled_content_pct": 93.7577, "post_consumer_pct": 81.25, "pre_consumer_pct": 12.5077,
        "chain_of_custody": "mass_balance", "ruleset_version": 3,
        "documents": [{"kind": "assay_report", "sha256": "3f" * 32}], "approved_by": [5],
        "issued_at": "2026-03-01T09:30:00Z",
    }
    certificate.update(changes)
    return certificate


def make_document(keyring, certificate=None, status="valid"):
    certificate = certificate if certificate is not None else make_certificate()
    kid, signature = keyring.sign(certificate)
    return {"certificate": certificate, "status": status, "key_id": kid, "signature": signature,
            "verification_code": verification_code(signature)}


def over_the_wire(value):
    """What a verifier holds: the document as JSON text, parsed again."""
    return json.loads(json.dumps(value, ensure_ascii=False))


@pytest.fixture
def key_paths(tmp_path):
    return tmp_path / "keys" / "signing-key.pem", tmp_path / "keys" / "signing-key.pem.retired.json"


@pytest.fixture
def keyring(key_paths):
    return Keyring.load(*key_paths)


def test_document_verifies_with_only_the_published_key(keyring):
    document = over_the_wire(make_document(keyring))
    keys = over_the_wire({"keys": keyring.published_keys()})["keys"]
    result = verify_certificate_document(document, keys)
    assert result == signing.VerificationResult(True, keyring.current_key_id, None)


def test_signature_covers_the_api_md_bytes_exactly(keyring):
    document = over_the_wire(make_document(keyring))
    signed_bytes = json.dumps(document["certificate"], sort_keys=True, separators=(",", ":"),
                              ensure_ascii=False).encode("utf-8")
    [published] = [key for key in keyring.published_keys() if key["key_id"] == document["key_id"]]
    public_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(published["public_key"]))
    public_key.verify(base64.b64decode(document["signature"]), signed_bytes)  # raises if not


def test_decimals_sign_as_the_json_numbers_a_verifier_reads(keyring):
    certificate = make_certificate(quantity_kg=Decimal("10000.0"), recycled_content_pct=Decimal("93.75770"))
    document = make_document(keyring, certificate)
    assert verify_certificate_document(over_the_wire(
        {**document, "certificate": make_certificate(quantity_kg=10000, recycled_content_pct=93.7577)}),
        keyring.published_keys()).valid_signature


def test_openssl_verifies_the_signature_without_python(keyring, tmp_path):
    document = make_document(keyring)
    public_key = keyring.public_key_for(document["key_id"])
    (tmp_path / "public.pem").write_bytes(public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (tmp_path / "certificate.json").write_bytes(json.dumps(
        document["certificate"], sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    (tmp_path / "signature.bin").write_bytes(base64.b64decode(document["signature"]))
    completed = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "public.pem", "-rawin",
         "-in", "certificate.json", "-sigfile", "signature.bin"], cwd=tmp_path, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_status_is_not_signed(keyring):
    document = make_document(keyring)
    document["status"] = "revoked"
    assert verify_certificate_document(document, keyring.published_keys()).valid_signature


@pytest.mark.parametrize("path, value", [
    (("quantity_kg",), 10001),
    (("company", "name"), "다른회사"),
    (("approved_by",), [6]),
    (("documents", 0, "sha256"), "40" * 32),
])
def test_a_tampered_field_fails(keyring, path, value):
    document = over_the_wire(make_document(keyring))
    target = document["certificate"]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    result = verify_certificate_document(document, keyring.published_keys())
    assert not result.valid_signature
    assert result.reason == "the signature does not match the certificate"


def test_an_added_field_fails(keyring):
    document = make_document(keyring)
    document["certificate"]["note"] = "extra"
    assert not verify_certificate_document(document, keyring.published_keys()).valid_signature


def test_a_tampered_signature_fails(keyring):
    document = make_document(keyring)
    raw = bytearray(base64.b64decode(document["signature"]))
    raw[0] ^= 1
    document["signature"] = base64.b64encode(bytes(raw)).decode()
    document["verification_code"] = verification_code(document["signature"])
    result = verify_certificate_document(document, keyring.published_keys())
    assert not result.valid_signature
    assert result.reason == "the signature does not match the certificate"


def test_an_unknown_key_id_fails(keyring):
    document = make_document(keyring)
    document["key_id"] = "0000000000000000"
    result = verify_certificate_document(document, keyring.published_keys())
    assert not result.valid_signature
    assert result.key_id == "0000000000000000"
    assert "no published Ed25519 key" in result.reason


def test_a_signature_from_another_key_under_a_known_id_fails(keyring):
    impostor = Keyring(Ed25519PrivateKey.generate())
    document = make_document(impostor)
    document["key_id"] = keyring.current_key_id
    assert not verify_certificate_document(document, keyring.published_keys()).valid_signature


def test_a_verification_code_that_does_not_match_the_signature_fails(keyring):
    document = make_document(keyring)
    document["verification_code"] = "000000000000"
    result = verify_certificate_document(document, keyring.published_keys())
    assert not result.valid_signature
    assert result.reason == "verification_code does not match the signature"


def test_a_document_without_verification_code_still_verifies(keyring):
    document = make_document(keyring)
    del document["verification_code"]
    assert verify_certificate_document(document, keyring.published_keys()).valid_signature


def _deeply_nested(depth):
    value = {}
    for _ in range(depth):
        value = {"a": value}
    return value


def _malformed_documents(good):
    def changed(**members):
        return {**copy.deepcopy(good), **members}

    without = {name: {k: v for k, v in good.items() if k != name} for name in ("certificate", "key_id", "signature")}
    return [
        None, [], "document", 42, {},
        without["certificate"], without["key_id"], without["signature"],
        changed(key_id=17), changed(key_id=""), changed(key_id=["a"]), changed(key_id={"a": 1}),
        changed(certificate=[1, 2]), changed(certificate="text"), changed(certificate=None),
        changed(signature=None), changed(signature=123), changed(signature="not base64!!"),
        changed(signature="AAAA"), changed(signature=base64.b64encode(b"x" * 65).decode()),
        changed(verification_code=123456789012), changed(verification_code=None),
        changed(certificate={**good["certificate"], "quantity_kg": float("nan")}),
        changed(certificate={**good["certificate"], "quantity_kg": float("inf")}),
        changed(certificate={**good["certificate"], "nested": _deeply_nested(5000)}),
    ]


def test_malformed_documents_are_answered_not_raised(keyring):
    good = make_document(keyring)
    for document in _malformed_documents(good):
        result = verify_certificate_document(document, keyring.published_keys())
        assert result.valid_signature is False, document
        assert result.reason, document


@pytest.mark.parametrize("published_keys", [
    None, "keys", {"keys": []}, [], [None], ["key"], [{"key_id": None}],
    "MALFORMED_ENTRIES",
])
def test_malformed_published_keys_are_answered_not_raised(keyring, published_keys):
    document = make_document(keyring)
    if published_keys == "MALFORMED_ENTRIES":
        kid = document["key_id"]
        published_keys = [{"key_id": kid, "alg": "Ed25519", "public_key": "not base64!!"},
                          {"key_id": kid, "alg": "Ed25519", "public_key": base64.b64encode(b"x" * 31).decode()},
                          {"key_id": kid, "alg": "Ed25519", "public_key": 12},
                          {"key_id": kid, "alg": "RSA", "public_key": keyring.published_keys()[0]["public_key"]}]
    result = verify_certificate_document(document, published_keys)
    assert result.valid_signature is False
    assert result.reason


def test_verification_code_is_the_sha256_of_the_raw_signature(keyring):
    document = make_document(keyring)
    raw = base64.b64decode(document["signature"])
    assert document["verification_code"] == hashlib.sha256(raw).hexdigest()[:12]
    assert len(document["verification_code"]) == 12
    assert document["verification_code"] == document["verification_code"].lower()


def test_verification_code_refuses_what_is_not_base64():
    with pytest.raises(ValueError):
        verification_code("not base64!!")


def test_key_id_is_the_sha256_prefix_of_the_raw_public_key():
    public_key = Ed25519PrivateKey.generate().public_key()
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert key_id(public_key) == hashlib.sha256(raw).hexdigest()[:16]


def test_published_keys_have_the_api_md_shape(keyring):
    [key] = keyring.published_keys()
    assert key == {"key_id": keyring.current_key_id, "alg": "Ed25519", "public_key": key["public_key"],
                   "status": "current"}
    assert len(base64.b64decode(key["public_key"], validate=True)) == 32


def test_public_key_for_an_unknown_id_is_none(keyring):
    assert keyring.public_key_for("ffffffffffffffff") is None
    assert keyring.public_key_for(keyring.current_key_id) is not None


def test_key_file_is_created_with_mode_0600_even_under_a_permissive_umask(key_paths):
    private_key_path, _ = key_paths
    previous = os.umask(0)
    try:
        load_or_create_private_key(private_key_path)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(private_key_path.stat().st_mode) == 0o600
    assert private_key_path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert os.listdir(private_key_path.parent) == [private_key_path.name]  # no temporary file left behind


def test_key_file_is_reused_on_the_second_load(key_paths):
    first = Keyring.load(*key_paths)
    second = Keyring.load(*key_paths)
    assert first.current_key_id == second.current_key_id
    document = make_document(first)
    assert verify_certificate_document(document, second.published_keys()).valid_signature


def test_a_key_that_is_not_ed25519_is_refused(tmp_path):
    from cryptography.hazmat.primitives.asymmetric import ec

    path = tmp_path / "key.pem"
    path.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    with pytest.raises(ValueError):
        load_or_create_private_key(path)


def test_a_key_written_by_another_process_in_between_wins(key_paths, monkeypatch):
    private_key_path, _ = key_paths
    other = Ed25519PrivateKey.generate()
    create = signing._create_exclusively

    def another_process_gets_there_first(path, data, mode):
        path.write_bytes(other.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))
        create(path, data, mode)

    monkeypatch.setattr(signing, "_create_exclusively", another_process_gets_there_first)
    loaded = load_or_create_private_key(private_key_path)
    assert key_id(loaded.public_key()) == key_id(other.public_key())


def _raw_public(key):
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_concurrent_creation_by_threads_ends_with_one_key(tmp_path):
    path = tmp_path / "keys" / "signing-key.pem"
    barrier = threading.Barrier(8)
    results = []

    def load():
        barrier.wait()
        results.append(_raw_public(load_or_create_private_key(path)))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8
    assert set(results) == {_raw_public(load_or_create_private_key(path))}


def _load_in_process(path, barrier, queue):
    barrier.wait()
    queue.put(_raw_public(load_or_create_private_key(path)))


def test_concurrent_creation_by_processes_ends_with_one_key(tmp_path):
    context = multiprocessing.get_context("fork")
    for attempt in range(5):
        path = tmp_path / f"attempt-{attempt}" / "signing-key.pem"
        barrier, queue = context.Barrier(6), context.Queue()
        processes = [context.Process(target=_load_in_process, args=(path, barrier, queue)) for _ in range(6)]
        for process in processes:
            process.start()
        keys = [queue.get(timeout=30) for _ in processes]
        for process in processes:
            process.join(timeout=30)
            assert process.exitcode == 0
        assert set(keys) == {_raw_public(load_or_create_private_key(path))}
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_rotation_keeps_old_signatures_verifiable_and_the_new_key_signs(key_paths):
    private_key_path, retired_keys_path = key_paths
    old = Keyring.load(*key_paths)
    old_document = make_document(old)

    rotated = rotate_key(private_key_path, retired_keys_path, retired_at="2026-06-01T00:00:00Z")
    reloaded = Keyring.load(*key_paths)

    assert reloaded.current_key_id == rotated.current_key_id != old.current_key_id
    keys = over_the_wire(reloaded.published_keys())
    assert [key["key_id"] for key in keys] == [rotated.current_key_id, old.current_key_id]
    assert [key["status"] for key in keys] == ["current", "retired"]
    assert verify_certificate_document(old_document, keys).valid_signature
    new_document = make_document(reloaded)
    assert new_document["key_id"] == rotated.current_key_id
    assert verify_certificate_document(new_document, keys).valid_signature
    assert not verify_certificate_document(new_document, old.published_keys()).valid_signature
    assert stat.S_IMODE(private_key_path.stat().st_mode) == 0o600


def test_retired_keys_file_has_the_documented_shape(key_paths):
    private_key_path, retired_keys_path = key_paths
    first = Keyring.load(*key_paths)
    rotate_key(private_key_path, retired_keys_path, retired_at="2026-06-01T00:00:00Z")
    second = Keyring.load(*key_paths)
    rotate_key(private_key_path, retired_keys_path)
    retired = json.loads(retired_keys_path.read_text())["keys"]
    assert [key["key_id"] for key in retired] == [first.current_key_id, second.current_key_id]
    assert retired[0] == {"key_id": first.current_key_id, "alg": "Ed25519",
                          "public_key": first.published_keys()[0]["public_key"], "retired_at": "2026-06-01T00:00:00Z"}
    assert retired[1]["retired_at"].endswith("Z")
    assert sorted(os.listdir(private_key_path.parent)) == sorted([private_key_path.name, retired_keys_path.name])


def test_a_rotation_interrupted_after_retiring_publishes_the_current_key_once(key_paths):
    private_key_path, retired_keys_path = key_paths
    keyring = Keyring.load(*key_paths)
    retired_keys_path.write_text(json.dumps({"keys": [
        {**keyring.published_keys()[0], "retired_at": "2026-06-01T00:00:00Z"}]}))
    reloaded = Keyring.load(*key_paths)
    assert [key["key_id"] for key in reloaded.published_keys()] == [keyring.current_key_id]


def test_a_retired_key_whose_id_does_not_match_is_refused(key_paths):
    private_key_path, retired_keys_path = key_paths
    other = Ed25519PrivateKey.generate().public_key()
    retired_keys_path.parent.mkdir(parents=True)
    retired_keys_path.write_text(json.dumps({"keys": [
        {"key_id": "0123456789abcdef", "alg": "Ed25519", "retired_at": "2026-06-01T00:00:00Z",
         "public_key": base64.b64encode(other.public_bytes(serialization.Encoding.Raw,
                                                           serialization.PublicFormat.Raw)).decode()}]}))
    with pytest.raises(ValueError):
        Keyring.load(private_key_path, retired_keys_path)
