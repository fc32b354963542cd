"""The users registry (issue 9 item 2): one identity per person, on SQLite and PostgreSQL.

Every look-alike attack of issue 9 (zero-width space, Cyrillic о, fullwidth letters, a Unicode
hyphen in a reserved name) is refused at registration and at use.
"""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import typer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from securecomm.store.models import AuditEntry, User
from securecomm.store.repositories import upsert_jurisdiction
from securecomm.users import service as us
from securecomm.users.areas import aor_of_county, area_codes
from securecomm.users.commands import users_app
from securecomm.users.names import normalise_name, skeleton

ORI = "CO0010000"
PASSWORD = "correct horse battery staple"
ADMIN = us.ADMIN_CLI_ACTOR


@pytest.fixture
def users_db(db):
    with db.session() as s, s.begin():
        upsert_jurisdiction(s, ORI, state="CO", timezone="America/Denver", county_fips="08001")
        us.add_user(s, "o.ruiz", "ice_officer", areas=["DEN"], password=PASSWORD, actor=ADMIN)
        us.add_user(s, "oce", "ice_supervisor", areas=["DEN", "SEA"], actor=ADMIN)
    return db


# --------------------------------------------------------------------------- look-alikes

LOOK_ALIKES = {
    "zero-width space": "o.ruiz\u200b",
    "Cyrillic о in a Latin name": "\u043e.ruiz",
    "fullwidth letters": "\uff4f.\uff52\uff55\uff49\uff5a",
    "upper case": "O.RUIZ",
    "digit zero for o": "0.ruiz",
    "right-to-left override": "o.\u202eziur",
    "all-Cyrillic look-alike": "\u043e\u0441\u0435",  # о с е: looks like 'oce'
}


@pytest.mark.parametrize("label", sorted(LOOK_ALIKES))
def test_look_alike_cannot_be_registered(users_db, label):
    name = LOOK_ALIKES[label]
    with users_db.session() as s, s.begin(), pytest.raises(us.UserError) as exc:
        us.add_user(s, name, "ice_supervisor", areas=["DEN"], actor=ADMIN)
    message = str(exc.value)
    assert message.startswith("name:")
    assert name not in message or name.isascii()  # never echoes a hostile value
    with users_db.session() as s:
        assert len(us.list_users(s)) == 2


@pytest.mark.parametrize("label", sorted(set(LOOK_ALIKES) - {"right-to-left override"}))
def test_look_alike_is_the_same_person(label):
    target = "oce" if "all-Cyrillic" in label else "o.ruiz"
    assert us.same_person(LOOK_ALIKES[label], target)


def test_look_alike_cannot_be_used(users_db):
    with users_db.session() as s:
        for name in ("\u043e.ruiz", "o.ruiz\u200b", "\u043e\u0441\u0435", "0.ruiz"):
            with pytest.raises(us.UserError) as exc:
                us.require_user(s, name, field="--supervisor")
            assert str(exc.value).startswith("--supervisor:")
            assert us.get_user(s, name) is None
        with pytest.raises(us.UserError, match="looks like a registered name"):
            us.require_user(s, "0.ruiz")
        # the fullwidth spelling *is* the registered name after NFKC: the same person
        assert us.require_user(s, "\uff4f.\uff52\uff55\uff49\uff5a").name == "o.ruiz"


@pytest.mark.parametrize(
    "name",
    [
        "auto-accept",
        "AUTO-ACCEPT",
        "auto\u2010accept",  # U+2010 HYPHEN
        "auto\u2011accept",  # U+2011 NON-BREAKING HYPHEN (NFKC -> U+2010)
        "\u0430uto-accept",  # Cyrillic а
        "pipe1ine",
        "policy-engine",
        "detainer-clock",
        "admin-cli",
        "notifier",
        "lesc",
        "worker",
        "system",
    ],
)
def test_reserved_actor_and_look_alikes_refused(users_db, name):
    with users_db.session() as s, s.begin(), pytest.raises(us.UserError, match=r"^name:"):
        us.add_user(s, name, "admin", actor=ADMIN)


def test_skeleton_is_unique_in_the_database(users_db):
    """The UNIQUE constraint holds even for a writer that skips the service's checks."""
    with users_db.session() as s, s.begin(), pytest.raises(IntegrityError), s.begin_nested():
        s.add(User(name="x.oruiz", skeleton=skeleton("o.ruiz"), role="crcl", created_by=ADMIN))
        s.flush()


def test_names_are_normalised():
    assert normalise_name("\uff2d.Lee") == "m.lee"
    assert normalise_name("Jos\u0065\u0301.Garc\u00eda") == "jos\u00e9.garc\u00eda"  # NFC/NFKC
    for bad, why in [
        ("a b", "U+0020"),
        ("", "empty"),
        ("-x", "start"),
        ("x" * 65, "longer"),
        ("o\u00a0ruiz", "U+00A0"),
        ("o\ue000ruiz", "U+E000"),
        ("o/ruiz", "U+002F"),
    ]:
        with pytest.raises(ValueError, match=re.escape(why)):
            normalise_name(bad)


# --------------------------------------------------------------------------- roles and scope


@pytest.mark.parametrize(
    ("role", "kw", "field"),
    [
        ("lea", {}, "jurisdictions"),
        ("lea_system", {"jurisdictions": ["TX2270000"]}, "jurisdictions"),
        ("ice_officer", {}, "areas"),
        ("ice_officer", {"areas": ["XYZ"]}, "areas"),
        ("crcl", {"areas": ["SEA"]}, "areas"),
        ("panel", {"jurisdictions": [ORI]}, "jurisdictions"),
        ("superuser", {}, "role"),
    ],
)
def test_roles_and_scopes_validated(users_db, role, kw, field):
    with users_db.session() as s, s.begin(), pytest.raises(us.UserError, match=rf"^{field}:"):
        us.add_user(s, "new.user", role, actor=ADMIN, **kw)


def test_scoped_principals(users_db):
    with users_db.session() as s, s.begin():
        lea = us.add_user(s, "desk.1", "lea", jurisdictions=[ORI.lower()], actor=ADMIN)
    assert lea.jurisdictions == (ORI,) and lea.areas == () and not lea.disabled
    with users_db.session() as s:
        sup = us.require_user(s, "oce", roles=("ice_supervisor",))
        assert sup.areas == ("DEN", "SEA")
        with pytest.raises(us.UserError, match="has role ice_officer"):
            us.require_user(s, "o.ruiz", roles=("ice_supervisor",))
        assert [p.name for p in us.list_users(s)] == ["desk.1", "o.ruiz", "oce"]


def test_actor_must_be_an_admin(users_db):
    with users_db.session() as s, s.begin(), pytest.raises(us.UserError, match=r"^actor:"):
        us.add_user(s, "new.user", "crcl", actor="o.ruiz")
    with users_db.session() as s, s.begin():
        us.add_user(s, "root.admin", "admin", actor=ADMIN)
        us.add_user(s, "c.r", "crcl", actor="root.admin")
    with users_db.session() as s:
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry.actor == "root.admin" and entry.event_type == "user.added"


def test_areas_crosswalk():
    assert aor_of_county("53033") == "SEA"  # King County, Washington
    assert aor_of_county("08001") == "DEN"
    assert aor_of_county("99999") is None and aor_of_county("5303") is None
    assert aor_of_county(None) is None
    assert len(area_codes()) == 24 and "HQ" not in area_codes()


# --------------------------------------------------------------------------- secrets


def test_password_login(users_db):
    with users_db.session() as s:
        assert us.authenticate_password(s, "o.ruiz", PASSWORD).name == "o.ruiz"
        assert us.authenticate_password(s, "O.Ruiz", PASSWORD).name == "o.ruiz"
        assert us.authenticate_password(s, "o.ruiz", PASSWORD + "x") is None
        assert us.authenticate_password(s, "oce", PASSWORD) is None  # no password set
        assert us.authenticate_password(s, "nobody.here", PASSWORD) is None
        assert us.authenticate_password(s, "o.ruiz\u200b", PASSWORD) is None
        stored = s.scalar(select(User.password_hash).where(User.name == "o.ruiz"))
        assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with users_db.session() as s, s.begin():
        us.disable_user(s, "o.ruiz", actor=ADMIN)
    with users_db.session() as s:
        assert us.authenticate_password(s, "o.ruiz", PASSWORD) is None
        assert us.get_user(s, "o.ruiz") is None
        with pytest.raises(us.UserError, match="disabled"):
            us.require_user(s, "o.ruiz")
        assert [p.disabled for p in us.list_users(s)] == [True, False]


def test_weak_password_refused_without_echo(users_db):
    with users_db.session() as s, s.begin(), pytest.raises(us.UserError) as exc:
        us.set_password(s, "oce", "hunter2", actor=ADMIN)
    assert str(exc.value).startswith("password:") and "hunter2" not in str(exc.value)


def test_api_keys(users_db):
    with users_db.session() as s, s.begin():
        us.add_user(s, "booking.sys", "lea_system", jurisdictions=[ORI], actor=ADMIN)
        first = us.issue_api_key(s, "booking.sys", actor=ADMIN)
    assert first.startswith("sc_") and len(first) == 46
    with users_db.session() as s:
        assert us.authenticate_api_key(s, first).name == "booking.sys"
        stored = s.scalar(select(User.api_key_sha256).where(User.name == "booking.sys"))
        assert stored == hashlib.sha256(first.encode()).hexdigest()
        assert us.authenticate_api_key(s, first[:-1] + ("A" if first[-1] != "A" else "B")) is None
        assert us.authenticate_api_key(s, "not a key") is None
    with users_db.session() as s, s.begin():
        second = us.issue_api_key(s, "booking.sys", actor=ADMIN)
    with users_db.session() as s:
        assert us.authenticate_api_key(s, first) is None  # rotated out
        assert us.authenticate_api_key(s, second).name == "booking.sys"
    with users_db.session() as s, s.begin():
        us.disable_user(s, "booking.sys", actor=ADMIN)
    with users_db.session() as s:
        assert us.authenticate_api_key(s, second) is None


def test_every_change_is_audited_without_secrets(users_db):
    with users_db.session() as s, s.begin():
        us.add_user(s, "booking.sys", "lea_system", jurisdictions=[ORI], actor=ADMIN)
        key = us.issue_api_key(s, "booking.sys", actor=ADMIN)
        us.set_password(s, "oce", PASSWORD + "!", actor=ADMIN)
        us.disable_user(s, "booking.sys", actor=ADMIN)
    with users_db.session() as s:
        entries = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
    events = [e.event_type for e in entries]
    assert events == [
        "user.added", "user.added", "user.added", "user.api_key_issued",
        "user.password_set", "user.disabled",
    ]  # fmt: skip
    for e in entries:
        assert e.actor == ADMIN
        assert PASSWORD not in e.payload and key not in e.payload
        assert hashlib.sha256(key.encode()).hexdigest() not in e.payload
        assert "user_id" in json.loads(e.subject)


# --------------------------------------------------------------------------- CLI

root = typer.Typer()
root.add_typer(users_app, name="users")
runner = CliRunner()


def test_cli_add_list_disable_api_key(users_db):
    url = users_db.url
    r = runner.invoke(
        root,
        ["users", "add", "m.lee", "--role", "ice_supervisor", "--area", "sea",
         "--password-stdin", "--url", url],
        input=PASSWORD + "\n",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "added user m.lee" in r.output
    with users_db.session() as s:
        assert us.authenticate_password(s, "m.lee", PASSWORD).areas == ("SEA",)

    r = runner.invoke(root, ["users", "add", "\u043e.ruiz", "--role", "crcl", "--url", url])
    assert r.exit_code == 2
    assert "name: mixes scripts" in r.output and "Traceback" not in r.output

    r = runner.invoke(root, ["users", "api-key", "m.lee", "--url", url])
    assert r.exit_code == 0, r.output
    key = r.stdout.strip().splitlines()[-1]
    with users_db.session() as s:
        assert us.authenticate_api_key(s, key).name == "m.lee"

    r = runner.invoke(root, ["users", "disable", "m.lee", "--url", url])
    assert r.exit_code == 0, r.output
    r = runner.invoke(root, ["users", "list", "--format", "json", "--url", url])
    rows = json.loads(r.stdout)  # --format json: one document (securecomm.cli.render)
    assert {row["name"]: row["disabled"] for row in rows} == {
        "m.lee": True, "o.ruiz": False, "oce": False,
    }  # fmt: skip

    r = runner.invoke(root, ["users", "disable", "x.y", "--url", url, "--as", "o.ruiz"])
    assert r.exit_code == 2 and "actor: has role ice_officer" in r.output


def test_field_office_has_no_list_of_its_own_reserved_names(users_db):
    """One list of reserved system actors (users.service.RESERVED_ACTORS): the field office
    accepts registered users only, so a reserved name is refused there too."""
    from securecomm.interop import field_office

    assert not hasattr(field_office, "RESERVED_ACTORS")
    with users_db.session() as s:
        for name in ("notifier", "auto\u2010accept", "pipeline"):  # Unicode hyphen too
            with pytest.raises(field_office.FieldOfficeError):
                field_office._person(s, "officer", name, field_office.OFFICER_ROLES)
