"""Password hashing (argon2id via argon2-cffi) and the password policy (length and guessability, via zxcvbn)."""
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

from certify.i18n import lazy_gettext as _l

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the account does not exist, so unknown users cost the same time as wrong passwords.
_DUMMY_HASH = _hasher.hash("certify-dummy-password-for-timing")

MIN_LENGTH = 10
MAX_LENGTH = 256
# zxcvbn scores 0–4; 3 means "safely unguessable" against an offline attack on a slow hash.
MIN_STRENGTH = 3
# zxcvbn's matching grows with length; past this many characters a passphrase is long enough anyway.
STRENGTH_CHECK_CHARS = 100


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
    """Reasons a password is refused: too short, or guessable (common, or built from the user's own names).

    No composition rules (ASVS 6.2): a long passphrase in any script is welcome.
    """
    if len(password) < MIN_LENGTH:
        return [_l("must be at least %(count)s characters long", count=MIN_LENGTH)]
    if len(password) > MAX_LENGTH:
        return [_l("must be at most %(count)s characters long", count=MAX_LENGTH)]
    own_words = [word for word in (email, email.split("@")[0], company_name, *company_name.split()) if word]
    estimate = zxcvbn(password[:STRENGTH_CHECK_CHARS], user_inputs=own_words)
    if estimate["score"] < MIN_STRENGTH:
        return [_l("is too easy to guess; a phrase of several unrelated words is both stronger and easier "
                   "to remember")]
    return []
