"""Web test fixtures: the demo store (a synthetic world through the real pipeline, users for
every role) on SQLite and on PostgreSQL, and the app over it.

``site`` is module-scoped per backend (seeding takes seconds): tests that change state use
cases of their own picking and do not assume an untouched store beyond what they check."""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_helpers import users_backend

from db_backends import BACKENDS, backend_url, drop_url
from securecomm.web.app import create_app
from securecomm.web.demo import DEMO_PASSWORD, seed_demo


@dataclass
class Site:
    backend: str
    url: str
    app: Any
    demo: Any
    users: Any
    aor_of_county: Any
    now: dt.datetime
    data_dir: Path

    def client(self) -> TestClient:
        # https: the session cookie is Secure and is only sent over HTTPS
        return TestClient(self.app, base_url="https://testserver")

    @property
    def password(self) -> str:
        return DEMO_PASSWORD


@pytest.fixture(scope="module", params=BACKENDS)
def site(request) -> Site:
    url = backend_url(request.param)
    users, aor = users_backend()
    data_dir = Path(tempfile.mkdtemp(prefix="securecomm-web-"))
    now = dt.datetime.now(dt.UTC)
    demo = seed_demo(url, data_dir=data_dir, users=users, aor_of_county=aor, now=now)
    # a second agency and field office: the "other jurisdiction" of the access matrix
    with create_app(url, users=users, aor_of_county=aor).state.service.session() as s:
        users.add_user(s, "police.other", "lea", jurisdictions=(demo.other_ori,),
                       password=DEMO_PASSWORD, actor="admin.demo")  # fmt: skip
        from securecomm.store.models import Jurisdiction

        other_area = aor(s.get(Jurisdiction, demo.other_ori).county_fips)
        users.add_user(s, "officer.other", "ice_officer", areas=(other_area,),
                       password=DEMO_PASSWORD, actor="admin.demo")  # fmt: skip
        users.add_user(s, "supervisor.two", "ice_supervisor", areas=(demo.area,),
                       password=DEMO_PASSWORD, actor="admin.demo")  # fmt: skip
    app = create_app(url, users=users, aor_of_county=aor, secret_key="test-secret")
    yield Site(request.param, url, app, demo, users, aor, now, data_dir)
    app.state.service.engine.dispose()
    drop_url(url)
