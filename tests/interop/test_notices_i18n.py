"""The notice to the detained person (issue 3 item 7): six languages from gettext catalogs,
loaded through Babel. The template matches the source, every catalog is complete (no empty
msgstr, no fuzzy entry), placeholders match, and every rendered notice carries the hotline."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po
from babel.support import Translations

from securecomm.interop import notices
from securecomm.interop.notices import LANGUAGES, LOCALE_DIR, MESSAGES, NoticeError

KINDS = ("detainer", "conditional_detainer", "notification_request")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
POT = LOCALE_DIR / "securecomm.pot"


def read(path: Path, locale: str | None = None):
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def msgids(catalog) -> set[str]:
    return {m.id for m in catalog if m.id}


def test_the_template_is_extracted_from_the_source():
    extracted = {
        message
        for _line, message, _comments, _context in extract_from_file(
            "python", notices.__file__, keywords={"N_": None}
        )
    }
    assert extracted == set(MESSAGES)
    assert msgids(read(POT)) == set(MESSAGES)
    assert len(MESSAGES) == len(set(MESSAGES))


def test_the_catalog_directories_are_exactly_the_languages():
    found = {p.parent.parent.name for p in LOCALE_DIR.glob("*/LC_MESSAGES/securecomm.po")}
    assert found == set(LANGUAGES)
    assert not list(LOCALE_DIR.rglob("*.mo")), "compiled .mo files are not kept (built in memory)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_in_every_catalog(language):
    path = LOCALE_DIR / language / "LC_MESSAGES" / "securecomm.po"
    catalog = read(path, language)
    assert str(catalog.locale) == language
    assert msgids(catalog) == set(MESSAGES)
    assert not catalog.obsolete
    assert not catalog.fuzzy
    for message in catalog:
        if not message.id:
            continue
        assert message.string, f"{language}: empty msgstr for {message.id[:40]!r}"
        assert not message.fuzzy, f"{language}: fuzzy {message.id[:40]!r}"
        assert sorted(PLACEHOLDER.findall(message.id)) == sorted(
            PLACEHOLDER.findall(message.string)
        ), f"{language}: placeholders differ in {message.id[:40]!r}"
        if language != "en":
            assert message.string != message.id, f"{language}: left in English"
    assert list(catalog.check()) == []
    assert notices.catalog_problems(catalog) == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_each_rendered_notice_carries_the_hotline(language, kind):
    text = notices.subject_notice_for(kind, language)
    assert notices.HOTLINE_NUMBER in text
    assert "%(" not in text
    assert "DHS" in text
    paragraphs = text.split("\n\n")
    assert len(paragraphs) == {"detainer": 4, "conditional_detainer": 5}.get(kind, 3)
    if kind != "notification_request":
        assert "48" in text
        assert "detainer" in text  # the English term is kept for matching other papers


def test_the_translations_say_the_right_things():
    texts = notices.subject_notice_all()
    assert list(texts) == list(LANGUAGES)
    assert "48 hours" in texts["en"] and "Saturdays, Sundays and federal holidays" in texts["en"]
    assert "48 horas" in texts["es"] and "sábados" in texts["es"] and "feriados" in texts["es"]
    assert "48 heures" in texts["fr"] and "samedis" in texts["fr"] and "fériés" in texts["fr"]
    assert "48 horas" in texts["pt"] and "sábados" in texts["pt"] and "feriados" in texts["pt"]
    assert "48 小时" in texts["zh_Hans"] and "联邦假日" in texts["zh_Hans"]
    assert "48 giờ" in texts["vi"] and "ngày lễ liên bang" in texts["vi"]
    # Simplified, not Traditional, Chinese.
    assert "国土安全部" in texts["zh_Hans"] and "國土安全部" not in texts["zh_Hans"]
    for language in LANGUAGES:
        assert notices.subject_notice(language) == texts[language]


def test_language_aliases_and_unknown_languages():
    for alias in ("zh", "zh-Hans", "zh_CN", "zh-cn", "ZH_HANS", "zh_SG"):
        assert notices.normalize_language(alias) == "zh_Hans"
    assert notices.subject_notice("pt-BR") == notices.subject_notice("pt")
    assert notices.subject_notice(" es ") == notices.subject_notice("es")
    for bad in ("de", "zh_Hant", "", "../../etc/passwd", "en\x00"):
        with pytest.raises(NoticeError, match=r"language: .* is not available"):
            notices.subject_notice(bad)
    with pytest.raises(NoticeError, match="expected a language code"):
        notices.subject_notice(None)  # type: ignore[arg-type]
    with pytest.raises(NoticeError, match="kind: 'holds' is not a detainer kind"):
        notices.subject_notice_for("holds", "en")


def test_catalogs_are_loaded_through_babel():
    notices._translations.cache_clear()
    translations = notices._translations("vi")
    assert isinstance(translations, Translations)
    assert translations.gettext(notices.MSG_TITLE) == "Thông báo cho người đang bị giam giữ"


def test_hotline_block_says_it_is_a_placeholder():
    block = notices.hotline()
    assert block["number"] == "1-855-000-0000"
    assert block["placeholder"] is True
    assert "placeholder" in block["note"]


def test_a_broken_catalog_is_refused(tmp_path, monkeypatch):
    shutil.copytree(LOCALE_DIR, tmp_path / "locale")
    path = tmp_path / "locale" / "fr" / "LC_MESSAGES" / "securecomm.po"
    text = path.read_text(encoding="utf-8")
    # Mark one entry fuzzy and drop a placeholder from another.
    text = text.replace("#, python-format\n", "#, fuzzy, python-format\n", 1)
    text = text.replace("%(hours)s heures", "48 heures")
    path.write_text(text, encoding="utf-8")
    problems = notices.catalog_problems(read(path, "fr"))
    assert any("fuzzy" in p for p in problems)
    assert any("placeholders differ" in p for p in problems)
    monkeypatch.setattr(notices, "LOCALE_DIR", tmp_path / "locale")
    notices._translations.cache_clear()
    try:
        with pytest.raises(NoticeError, match="is not usable"):
            notices.subject_notice("fr")
    finally:
        monkeypatch.undo()
        notices._translations.cache_clear()
    assert notices.HOTLINE_NUMBER in notices.subject_notice("fr")
