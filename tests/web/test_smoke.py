from web_helpers import token


def test_pages_render_for_each_role(site):
    c = site.client()
    assert c.get("/").status_code == 200
    assert c.get("/public").status_code == 200
    assert c.get("/public?lang=es").status_code == 200
    for name, home in (
        ("police.demo", "/detainers"),
        ("officer.demo", "/worklist"),
        ("supervisor.demo", "/approvals"),
        ("crcl.demo", "/complaints"),
        ("panel.demo", "/panel"),
        ("admin.demo", "/admin"),
    ):
        c = site.client()
        r = c.post(
            "/login", data={"username": name, "password": site.password}, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"] == home
        page = c.get(home)
        assert page.status_code == 200, (name, page.text[:500])


def test_api_for_officer(site):
    c = site.client()
    h = token(c, "officer.demo", site.password)
    wl = c.get("/api/v1/worklist", headers=h)
    assert wl.status_code == 200, wl.text
    assert wl.json()
    case = c.get(f"/api/v1/cases/{wl.json()[0]['case_id']}", headers=h)
    assert case.status_code == 200, case.text
