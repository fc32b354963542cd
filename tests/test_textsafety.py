"""securecomm.textsafety: invisible, bidirectional and control characters are rejected."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from securecomm.textsafety import UnsafeTextError, check_identifier, check_text, find_unsafe

HOSTILE = [
    "o.ruiz\u200b",  # zero-width space
    "o.\u202eziur",  # right-to-left override
    "o.ruiz\u2066",  # left-to-right isolate
    "\ufeffo.ruiz",  # byte-order mark
    "o.ru\u00adiz",  # soft hyphen
    "o.ruiz\n",  # newline
    "o.ruiz\x00",  # NUL
    "o.ruiz\ufe0f",  # variation selector
    "o.ruiz\u3164",  # Hangul filler
    "o.ruiz\ue000",  # private use
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_characters_rejected_naming_field_not_value(value):
    with pytest.raises(UnsafeTextError) as info:
        check_text(value, "officer")
    message = str(info.value)
    assert message.startswith("officer: ")
    assert "U+" in message
    assert "ruiz" not in message and "ziur" not in message


@pytest.mark.parametrize("value", ["O.Ruiz", "María José", "Nguyễn Văn A", "李小龙", "D'Angelo-Smith"])
def test_ordinary_names_pass_unchanged(value):
    assert check_text(value, "name") == value


def test_identifier_refuses_any_space_and_names_need_no_padding():
    with pytest.raises(UnsafeTextError, match="U\\+0020"):
        check_identifier("TCN 1", "tcn")
    with pytest.raises(UnsafeTextError, match="U\\+00A0"):
        check_text("a\u00a0b", "name")
    with pytest.raises(UnsafeTextError, match="leading or trailing"):
        check_text(" a", "name")
    with pytest.raises(UnsafeTextError, match="blank"):
        check_text("   ", "name")
    with pytest.raises(UnsafeTextError, match="empty"):
        check_identifier("", "tcn")


@given(st.text(alphabet=st.characters(categories=["Lu", "Ll", "Nd"]), min_size=1))
def test_letters_and_digits_are_always_safe(value):
    assert find_unsafe(value) is None
    assert check_identifier(value, "id") == value


@given(st.text(min_size=1), st.sampled_from(["\u200b", "\u202e", "\x1b", "\u2028"]))
def test_any_text_with_an_invisible_character_is_refused(prefix, bad):
    assert find_unsafe(prefix + bad) is not None
