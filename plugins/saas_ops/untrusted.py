"""Names and addresses read from saas_db, checked where they enter an email or a Slack message: the same rules
for every caller. A value that fails is never placed in a header; the email of that recipient is suppressed
with the reason this module gives."""

from __future__ import annotations

import re
import unicodedata

_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"  # U+202E shows text reversed
# C0/C1 controls (CR and LF among them), bidirectional marks and overrides, line and paragraph separators, BOM.
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff{_BIDI}]")
# What may stand in a local part or domain: no whitespace, and none of the characters that end an address
# in a header (`<>()[],;:"\`).
_ADDRESS = re.compile(r"[^\s@<>()\[\],;:\"\\]{1,64}@[^\s@<>()\[\],;:\"\\]{1,253}")


def _describe(char: str) -> str:
    if char in "\r\n":
        return "a line break (CR/LF)"
    kind = "bidirectional control" if char in _BIDI else "control character"
    return f"a {kind} (U+{ord(char):04X})"


def text_problem(value: str | None, what: str) -> str | None:
    """Why `value` may not go into an email, or None (an absent value is fine: templates leave it out)."""
    if value is None:
        return None
    unsafe = _UNSAFE.search(value)
    return f"{what} holds {_describe(unsafe.group())}" if unsafe else None


def normal_address(value: str | None) -> tuple[str | None, str | None]:
    """(the address in its one stored form, None) or (None, why it is unusable). The stored form is trimmed,
    NFC and lower-cased by Python, every letter, not only ASCII (PostgreSQL's lower() under the C collation
    leaves Ü alone): email_suppressions holds it, and every comparison uses it."""
    if value is None or not value.strip():
        return None, "no usable email address (none given)"
    address = unicodedata.normalize("NFC", value.strip()).lower()
    unsafe = _UNSAFE.search(address)
    if unsafe:
        return None, f"no usable email address (it holds {_describe(unsafe.group())})"
    if len(address) > 254 or not _ADDRESS.fullmatch(address):
        return None, "no usable email address (not of the form name@domain)"
    return address, None


def flat(value: str) -> str:
    """`value` with every unsafe character (CR and LF among them) as a space: it stays one line of a message."""
    return _UNSAFE.sub(" ", value)


def one_line(value: str | None, limit: int = 80) -> str:
    """A value as a header or a title shows it: flat, spaces collapsed, at most `limit` characters."""
    text = " ".join(flat(value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
