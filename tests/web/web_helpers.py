"""Helpers of the web tests (imported by name: tests are not a package)."""

from __future__ import annotations

from typing import Any


def users_backend() -> tuple[Any, Any]:
    """(users registry, aor_of_county): ``securecomm.users``."""
    from securecomm.users import service
    from securecomm.users.areas import aor_of_county

    return service, aor_of_county


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
