"""Password hashing (argon2id via argon2-cffi) and the password policy."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the account does not exist, so unknown users cost the same time as wrong passwords.
_DUMMY_HASH = _hasher.hash("certify-dummy-password-for-timing")

MIN_LENGTH = 10
MAX_LENGTH = 256
COMMON_PASSWORDS = frozenset({
    "password", "password1", "password12", "password123", "passw0rd", "1234567890", "12345678910",
    "qwertyuiop", "1q2w3e4r5t", "iloveyou12", "letmein123", "welcome123", "administrator", "qwerty1234",
    "abc1234567", "changeme123", "p@ssw0rd123", "0987654321", "1111111111", "aaaaaaaaaa", "certify123",
})


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def password_problems(password: str, *, email: str = "", company_name: str = "") -> list[str]:
    """Reasons a password is refused: length and guessability only, no composition rules (ASVS 6.2)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        problems.append(f"must be at most {MAX_LENGTH} characters long")
    lowered = password.strip().lower()
    guessable = {email.lower(), email.split("@")[0].lower(), company_name.strip().lower()} - {""}
    if lowered in COMMON_PASSWORDS or lowered in guessable or len(set(lowered)) <= 2:
        problems.append("is too easy to guess; choose a longer phrase of several words")
    return problems
