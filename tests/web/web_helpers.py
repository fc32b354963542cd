"""Helpers of the web tests (imported by name: tests are not a package)."""

from __future__ import annotations

import importlib.util
from typing import Any


def users_backend() -> tuple[Any, Any]:
    """(users registry, aor_of_county): the real ``securecomm.users`` when this branch has it,
    else the in-memory stand-in of ``fake_users`` with areas = "AOR-" + state FIPS code."""
    if importlib.util.find_spec("securecomm.users") is not None:
        from securecomm.users import service
        from securecomm.users.areas import aor_of_county

        return service, aor_of_county
    from fake_users import FakeUsers

    return FakeUsers(), (lambda fips: f"AOR-{fips[:2]}" if fips else None)


def login(client, name: str, password: str) -> None:
    r = client.post("/login", data={"username": name, "password": password},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text


def token(client, name: str, password: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", data={"username": name, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def csrf_of(html: str) -> str:
    import re

    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)
