"""Password policy (security checklist 9) and storage (10)."""
import pytest

from certify.passwords import hash_password, password_problems, verify_password


@pytest.mark.parametrize("password", ["password", "short7c", "qwertyuiop123", "aaaaaaaaaaaaaaaa",
                                      "Hanbit Battery Recycling"])
def test_weak_passwords_are_refused_with_a_reason(app, password):
    problems = password_problems(password, email="kim@hanbit.example", company_name="Hanbit Battery Recycling")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert problems and all(str(p) for p in problems)
    with app.test_request_context(headers={"Accept-Language": "ko"}):
        assert all(str(p) != str(p._args[0]) if hasattr(p, "_args") else True for p in problems)


@pytest.mark.parametrize("password", ["correct horse battery staple", "x" * 30 + " pale violet ledger moon",
                                      "한국어 비밀번호 문장입니다", "tide-lantern-quorum-87"])
def test_long_or_unusual_passwords_are_accepted_without_composition_rules(password):
    assert password_problems(password) == []


def test_a_64_character_passphrase_is_accepted():
    assert password_problems("the quiet river carries lanterns past sleeping orchards at dawn!") == []


def test_stored_hash_is_argon2id_and_verifies():
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "correct horse battery staple")
    assert not verify_password(stored, "correct horse battery stapler")
    assert not verify_password(None, "anything at all")
