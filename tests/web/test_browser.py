"""Each role's main flow end to end in a real browser: Playwright driving Debian's Chromium
(never a downloaded browser). Screenshots of every page go to docs/screenshots/ (SQLite run).

Skipped, with the reason, when /usr/bin/chromium is absent (CI installs it with apt-get)."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from securecomm.store.models import Detainer, Jurisdiction

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Debian's chromium is not installed (/usr/bin/chromium); "
    "apt-get install chromium (the browser tests never download one)",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(site):
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(site.app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(100):
        if srv.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(5)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


def _shot(site, page, name: str, *, full_page: bool = True) -> None:
    if site.backend == "sqlite":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def _login(browser, base: str, name: str, password: str, **ctx):
    context = browser.new_context(**ctx)
    page = context.new_page()
    page.goto(f"{base}/login")
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    return context, page


def _new_booking_of_a_known_person(site) -> dict:
    """A booking of someone IDENT knows (a demo booking's person, new TCN, booked now)."""
    from securecomm.store.models import CaseRecord, Submission

    with site.app.state.service.session() as s:
        sub = s.scalar(
            select(Submission).join(CaseRecord, CaseRecord.submission_id == Submission.id)
            .where(Submission.ori == site.demo.ori).order_by(Submission.id).limit(1)
        )  # fmt: skip
        doc = dict(sub.payload)
    doc["tcn"] = "BROWSER-0001"
    doc["booked_at"] = (site.now - dt.timedelta(minutes=30)).isoformat()
    doc.pop("arrested_at", None)
    doc["booking_number"] = "B-BROWSER-1"
    return doc


def test_each_role_main_flow(site, server, browser):
    from securecomm.interop.settings import load_settings
    from securecomm.interop.worker import run_worker

    pw = site.password
    # 1. the agency submits a booking
    ctx, page = _login(browser, server, "police.demo", pw, viewport={"width": 1280, "height": 900})
    assert page.url.endswith("/detainers")
    page.goto(f"{server}/bookings")
    page.get_by_text("Submit a booking").click()
    page.get_by_label("Booking document").fill(json.dumps(_new_booking_of_a_known_person(site)))
    page.get_by_role("button", name="Submit booking").click()
    page.wait_for_load_state()
    assert "Accepted 1" in page.content()
    _shot(site, page, "police-bookings")
    ctx.close()
    # the pipeline worker (serve runs it in-process) identifies and recommends
    run_worker(site.app.state.service.engine, settings=load_settings(data_dir=site.data_dir),
               auto_accept=False, clock=lambda: site.now)  # fmt: skip
    from securecomm.store.models import CaseRecord, Submission

    with site.app.state.service.session() as s:
        case_id = s.scalar(select(CaseRecord.case_id).join(Submission, CaseRecord.submission_id == Submission.id)
                           .where(Submission.tcn == "BROWSER-0001"))  # fmt: skip
    assert case_id, "the booking became a case"

    # 2. the officer sees and accepts the case
    ctx, page = _login(browser, server, "officer.demo", pw, viewport={"width": 1280, "height": 900})
    assert page.url.endswith("/worklist")
    _shot(site, page, "officer-worklist")
    page.get_by_role("link", name=case_id).click()
    page.wait_for_load_state()
    assert "Why — every rule that applied" in page.content()
    assert page.locator(".cite").count() >= 1
    _shot(site, page, "officer-case")
    page.get_by_label("Decision").select_option("accept")
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()
    assert "accept" in page.content() and "by officer.demo" in page.content()
    ctx.close()

    # 3. the supervisor approves the safeguard override waiting in the queue
    ctx, page = _login(
        browser, server, "supervisor.demo", pw, viewport={"width": 1280, "height": 900}
    )
    assert page.url.endswith("/approvals")
    _shot(site, page, "supervisor-approvals")
    rows_before = page.locator("tbody tr").count()
    assert "officer.two" in page.content()
    page.get_by_role("button", name="Record").first.click()
    page.wait_for_load_state()
    assert (
        page.locator("tbody tr").count() == rows_before - 1
        or "Nothing awaits approval" in page.content()
    )
    ctx.close()

    # 4. the agency sees its detainer clocks and enters a release-eligible time
    ctx, page = _login(browser, server, "police.demo", pw, viewport={"width": 1280, "height": 900})
    assert page.locator("tr.overdue").count() >= 1, "an overdue hold is shown in red"
    color = page.locator("tr.overdue .overdue").first.evaluate("e => getComputedStyle(e).color")
    assert color == "rgb(176, 0, 32)"
    _shot(site, page, "police-detainer-clocks")
    forms = page.locator("form[action$='/release-eligible']")
    assert forms.count() >= 1
    form = forms.first
    # a time after the detainer was issued (an earlier one is refused by the lifecycle)
    detainer_id = int(form.get_attribute("action").rstrip("/").split("/")[-2])
    with site.app.state.service.session() as s:
        d = s.get(Detainer, detainer_id)
        zone = ZoneInfo(s.get(Jurisdiction, d.ori).timezone)
        local_day = d.issued_at.astimezone(zone).date() + dt.timedelta(days=1)
    form.locator("input[name=at]").fill(f"{local_day.isoformat()}T17:00")
    form.get_by_role("button", name="Start the clock").click()
    page.wait_for_load_state()
    shown = f"{local_day:%a %d %b %Y} 17:00"
    assert shown in page.content()  # the release-eligible time, local
    page.goto(f"{server}/notices")
    _shot(site, page, "police-notices", full_page=False)
    ctx.close()
    # a phone
    ctx, page = _login(browser, server, "police.demo", pw, viewport={"width": 390, "height": 844},
                       is_mobile=True)  # fmt: skip
    _shot(site, page, "police-detainer-clocks-phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    ctx.close()

    # 5. the public page renders in Spanish, with charts drawn offline
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    page = ctx.new_page()
    page.goto(f"{server}/public?lang=es")
    assert page.locator("h1").inner_text() == "Cómo funciona Comunidades Seguras"
    page.wait_for_selector("#chart-1 svg, #chart-1 canvas", timeout=15000)
    assert "Estadísticas" in page.content() and "Mes" in page.content()
    _shot(site, page, "public-es")
    page.goto(f"{server}/public?lang=zh_Hans")
    _shot(site, page, "public-zh")
    ctx.close()

    # admin
    ctx, page = _login(browser, server, "admin.demo", pw, viewport={"width": 1280, "height": 900})
    _shot(site, page, "admin")
    ctx.close()
