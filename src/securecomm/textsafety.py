"""Characters that must never reach an identifier or a person's name.

An identifier (TCN, ORI, case id, user name) or a name that *looks* like another, or that hides
characters a reader cannot see, defeats the checks built on it: a supervisor "different" from the
officer only by a zero-width space, a TCN that differs from another only by a right-to-left
override. Such text is rejected, never trimmed or repaired: the sender must correct it.

Pure (no I/O); used by intake, the case schema's readers and the user registry.

Rejected (Unicode general categories, see UAX #44):
- ``Cc`` control characters (incl. TAB, CR, LF, NUL),
- ``Cf`` format characters: zero-width space/joiners, bidirectional embeddings, overrides and
  isolates (U+202A-U+202E, U+2066-U+2069), the BOM, soft hyphen, invisible math operators,
- ``Co`` private use, ``Cs`` surrogates, ``Cn`` unassigned code points,
- ``Zl`` / ``Zp`` line and paragraph separators,
- variation selectors and other default-ignorable code points (Unicode's
  ``Default_Ignorable_Code_Point`` ranges that are not already ``Cf``),
- any space other than U+0020 (``Zs``: no-break, en/em, ideographic spaces) in identifiers.
"""

from __future__ import annotations

import unicodedata

__all__ = ["UnsafeTextError", "check_identifier", "check_text", "describe", "find_unsafe"]

#: Default-ignorable code points (DerivedCoreProperties.txt) outside category Cf.
_DEFAULT_IGNORABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x034F, 0x034F),  # COMBINING GRAPHEME JOINER
    (0x115F, 0x1160),  # HANGUL CHOSEONG/JUNGSEONG FILLER
    (0x17B4, 0x17B5),  # KHMER VOWEL INHERENT AQ/AA
    (0x180B, 0x180F),  # MONGOLIAN FREE VARIATION SELECTORS
    (0x3164, 0x3164),  # HANGUL FILLER
    (0xFE00, 0xFE0F),  # VARIATION SELECTORS
    (0xFFA0, 0xFFA0),  # HALFWIDTH HANGUL FILLER
    (0xE0100, 0xE01EF),  # VARIATION SELECTORS SUPPLEMENT
)
_REJECTED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


class UnsafeTextError(ValueError):
    """A value holds a character that is invisible, controls layout, or is not a character."""


def describe(ch: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: a character named without printing it."""
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'UNNAMED')}"


def _ignorable(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _DEFAULT_IGNORABLE_RANGES)


def find_unsafe(value: str, *, allow_spaces: bool = True) -> str | None:
    """The first unsafe character of ``value`` (see the module docstring), or None.

    ``allow_spaces``: whether U+0020 SPACE is allowed (names: yes; identifiers: no). Other
    spaces are never allowed.
    """
    for ch in value:
        cat = unicodedata.category(ch)
        if cat in _REJECTED_CATEGORIES or _ignorable(ord(ch)):
            return ch
        if cat == "Zs" and (ch != " " or not allow_spaces):
            return ch
    return None


def check_text(value: str, field: str) -> str:
    """``value`` unchanged if it holds no unsafe character and is not blank; else
    :class:`UnsafeTextError` naming ``field`` and the character (never the value itself: it
    may be personal data)."""
    ch = find_unsafe(value)
    if ch is not None:
        raise UnsafeTextError(f"{field}: contains {describe(ch)}, which is not allowed")
    if not value.strip():
        raise UnsafeTextError(f"{field}: is blank")
    if value != value.strip():
        raise UnsafeTextError(f"{field}: has leading or trailing spaces")
    return value


def check_identifier(value: str, field: str) -> str:
    """As :func:`check_text`, and no space at all (an identifier is one token)."""
    ch = find_unsafe(value, allow_spaces=False)
    if ch is not None:
        raise UnsafeTextError(f"{field}: contains {describe(ch)}, which is not allowed")
    if not value:
        raise UnsafeTextError(f"{field}: is empty")
    return value
