"""The oversight portals in a real browser (issue 11 "Done when": a CRCL user takes a complaint
from intake to resolution in the browser): Playwright driving Debian's Chromium, launched as
tests/web/test_browser.py does (its fixtures). Screenshots to docs/screenshots/ (SQLite run)."""

from __future__ import annotations

import re

from oversight_helpers import oversight_fixtures
from test_browser import _login, _shot, browser, pytestmark, server  # noqa: F401 (fixtures)

WIDE = {"viewport": {"width": 1280, "height": 900}}


def test_public_complaint_and_crcl_intake_to_resolution(site, server, browser):  # noqa: F811
    pw = site.password
    ov = oversight_fixtures(site)

    # the public: the form in Spanish, no account, a receipt code
    ctx = browser.new_context(**WIDE)
    page = ctx.new_page()
    page.goto(f"{server}/complaint?lang=es")
    page.get_by_label("¿Sobre qué es la queja?").select_option("profiling_or_pretextual_arrest")
    page.get_by_label("¿Qué pasó?").fill("Me detuvieron por una luz trasera rota y llamaron a ICE.")
    _shot(site, page, "complaint-form-es")
    page.get_by_role("button", name="Enviar la queja").click()
    page.wait_for_load_state()
    receipt = page.locator("#receipt-code").inner_text()
    assert re.fullmatch(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){2}", receipt), receipt
    _shot(site, page, "complaint-receipt-es")
    ctx.close()

    # CRCL: a phone complaint from intake to resolution
    ctx, page = _login(browser, server, "crcl.demo", pw, **WIDE)
    page.goto(f"{server}/complaints/new")
    page.get_by_label("Channel").select_option("phone")
    page.get_by_label("Category").select_option("held_past_detainer_limit")
    page.get_by_label("What the complainant says happened").fill(
        "Caller's brother was held two days after his release date."
    )
    page.get_by_label("Complainant's name").fill("Caller Example")
    page.get_by_label("Link to (optional)").select_option("jurisdiction")
    page.get_by_label("Reference (TCN, case id, detainer number or ORI)").fill(site.demo.ori)
    _shot(site, page, "crcl-intake")
    page.get_by_role("button", name="Record the complaint").click()
    page.wait_for_load_state()
    assert re.search(r"/complaints/\d+$", page.url), page.url
    assert page.locator("#stage").inner_text() == "received"
    assert "Caller Example" in page.content()

    def move(to: str, outcome: str | None = None) -> None:
        page.get_by_label("Move to").select_option(to)
        if outcome:
            page.get_by_label(re.compile("^Outcome")).fill(outcome)
        page.get_by_role("button", name="Move").click()
        page.wait_for_load_state()
        assert page.locator("#stage").inner_text() == to

    move("acknowledged")
    page.get_by_label("Assign to").select_option("crcl.demo")
    page.get_by_role("button", name="Assign").click()
    page.wait_for_load_state()
    assert page.locator("#stage").inner_text() == "assigned"
    move("investigating")
    move("resolved", "The agency released the person; detainer training ordered.")
    _shot(site, page, "crcl-complaint")
    assert "The agency released the person" in page.content()

    page.goto(f"{server}/complaints")
    assert page.get_by_role("link", name=re.compile(r"#\d+")).count() >= 2
    _shot(site, page, "crcl-complaints")
    page.goto(f"{server}/oversight/alerts")
    _shot(site, page, "crcl-alerts")
    ctx.close()

    # the complainant checks the receipt: status only
    ctx = browser.new_context(**WIDE)
    page = ctx.new_page()
    page.goto(f"{server}/complaint/status?lang=es")
    page.get_by_label("Código de recibo").fill(receipt)
    page.get_by_role("button", name="Consultar").click()
    page.wait_for_load_state()
    assert page.locator("#stage").inner_text() == "Recibida"
    assert "luz trasera" not in page.content()
    _shot(site, page, "complaint-status-es")
    ctx.close()

    # the panel: the recorded draw and a de-identified case with its checklist
    ctx, page = _login(browser, server, "panel.demo", pw, **WIDE)
    page.goto(f"{server}/panel")
    _shot(site, page, "panel-draws")
    page.goto(f"{server}/panel/draws/{ov['draw_id']}/cases/{ov['pseudonym']}")
    assert "Review checklist" in page.content()
    _shot(site, page, "panel-case")
    ctx.close()
