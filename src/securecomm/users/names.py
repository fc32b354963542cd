"""User names: one spelling per person (Unicode TR 39 confusable skeletons).

Pure (no I/O beyond reading the installed library's data once). A user name is

1. NFKC-normalised and case-folded (``ＯＲｕｉｚ`` -> ``oruiz``): the stored and displayed
   form, so ``O.Ruiz`` and ``o.ruiz`` are one name;
2. refused if it holds a character :func:`securecomm.textsafety.find_unsafe` rejects
   (control, zero-width, bidirectional, private-use, unassigned, default-ignorable) or any
   character other than letters, combining marks, decimal digits and ``. - _ @ '``; it must
   start with a letter or digit, be 1..64 characters, and use one script (Latin, Cyrillic,
   Greek, Han ...; Common and Inherited characters such as ``.`` go with any);
3. reduced to its *skeleton* (UTS #39 section 4, "Confusable Detection"): NFD, every
   character replaced by its prototype from the Unicode confusables table, NFD again. Two names
   with the same skeleton look alike (``o.ruiz``, ``о.ruiz`` with a Cyrillic о, ``0.ruiz``);
   the store keeps skeletons UNIQUE, so only the first can be registered.

The confusables table
    UTS #39 ``confusables.txt`` maps each *source* character to one *prototype* (a string of
    one or more characters, itself mapped to nothing). The installed ``confusable-homoglyphs``
    package (``confusable_homoglyphs/confusables.json``, built from ``confusables.txt``) stores
    that relation in both directions: ``data[source]`` holds ``[prototype]`` and
    ``data[prototype]`` lists every source. We recover the direction: a key whose list has one
    element is a source of that element, unless the element is itself a key listing several
    characters (then the key is the prototype of a larger class, e.g. ``o``) -- and in a pair
    that points only at each other (a class of two) the smaller code point is taken as the
    prototype, which gives the same equivalence classes. The package wraps right-to-left
    characters in U+200E LEFT-TO-RIGHT MARK for display; those marks are removed.
"""

from __future__ import annotations

import functools
import unicodedata

from ..textsafety import describe, find_unsafe

__all__ = [
    "NAME_MAX",
    "NameError_",
    "normalise_name",
    "prototype_table",
    "same_person",
    "skeleton",
]

NAME_MAX = 64
_PUNCTUATION = frozenset(".-_@'")
_ANY_SCRIPT = frozenset({"COMMON", "INHERITED"})
_LRM = "\u200e"


class NameError_(ValueError):  # the trailing _: not the builtin NameError
    """A user name is not acceptable; the message names the field, never the value."""


@functools.cache
def prototype_table() -> dict[str, str]:
    """Source character -> prototype string, from the installed confusables data (see above)."""
    from confusable_homoglyphs.confusables import confusables_data

    def clean(text: str) -> str:
        return text.replace(_LRM, "")

    data: dict[str, list[str]] = {}
    for key, entries in confusables_data.items():
        data.setdefault(clean(key), []).extend(clean(e["c"]) for e in entries)
    table: dict[str, str] = {}
    for key, targets in data.items():
        if len(key) != 1 or len(targets) != 1:
            continue  # a prototype (it lists its sources) or a multi-character sequence
        target = targets[0]
        back = data.get(target, [])
        if back == [key] and len(target) == 1 and target > key:
            continue  # a class of two: the smaller code point is the prototype
        if target != key:
            table[key] = target
    return table


def _nfd_map(text: str) -> str:
    table = prototype_table()
    return "".join(table.get(ch, ch) for ch in unicodedata.normalize("NFD", text))


def skeleton(text: str) -> str:
    """UTS #39 skeleton of an already normalised name (see :func:`normalise_name`).

    Default-ignorable and format characters are dropped first (as UTS #39 does since Unicode
    15.1), so an invisible character never makes two names differ. Names are case-insensitive,
    so the result is case-folded too (``0`` -> ``O`` -> ``o``); mapping and folding repeat
    until stable."""
    text = "".join(
        ch
        for ch in unicodedata.normalize("NFKC", text).casefold()
        if unicodedata.category(ch) not in ("Cf", "Cc") and not _ignorable(ch)
    )
    previous = None
    while previous != text:
        previous, text = text, unicodedata.normalize("NFD", _nfd_map(text).casefold())
    return text


def _ignorable(ch: str) -> bool:
    from ..textsafety import _ignorable as ignorable  # one definition of the ranges

    return ignorable(ord(ch))


def _script(ch: str) -> str:
    from confusable_homoglyphs.categories import alias

    return alias(ch)


def normalise_name(value: object, field: str = "name") -> str:
    """The stored form of a user name (NFKC, case-folded), or :class:`NameError_` naming
    ``field`` and the offending character (by code point, never the value)."""
    if not isinstance(value, str):
        raise NameError_(f"{field}: a text value is required")
    bad = find_unsafe(value, allow_spaces=False)
    if bad is not None:
        raise NameError_(f"{field}: contains {describe(bad)}, which is not allowed in a name")
    name = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())
    if not name:
        raise NameError_(f"{field}: is empty")
    if len(name) > NAME_MAX:
        raise NameError_(f"{field}: longer than {NAME_MAX} characters")
    for ch in name:
        cat = unicodedata.category(ch)
        if not (cat[0] in "LM" or cat == "Nd" or ch in _PUNCTUATION):
            raise NameError_(
                f"{field}: contains {describe(ch)}; a name holds letters, digits and . - _ @ ' only"
            )
    if unicodedata.category(name[0])[0] not in "LN":
        raise NameError_(f"{field}: must start with a letter or a digit")
    scripts = {_script(ch) for ch in name} - _ANY_SCRIPT
    if len(scripts) > 1:
        raise NameError_(
            f"{field}: mixes scripts ({', '.join(sorted(scripts))}); a name uses one script"
        )
    return name


def same_person(a: str, b: str) -> bool:
    """Whether two names denote the same person: equal skeletons (so a look-alike, a
    differently cased or an invisibly padded spelling is the same person)."""
    return skeleton(a) == skeleton(b)
