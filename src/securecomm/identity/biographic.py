"""Biographic linkage with Splink (DuckDB backend) when no usable template exists.

When a booking has no fingerprint template, or its quality is too low for 1:N search
(:func:`securecomm.identity.templates.usable_template`), the booking's biographics -- first and
last name, date of birth, sex, place of birth -- are linked probabilistically against the
encounter table (IDENT or criminal history) with a Fellegi-Sunter model. Such candidates are
*lower confidence by construction*: every output row carries ``confidence="biographic"`` and
``requires_human_verification=True``; a biographic candidate never triggers an action by itself.

The model (Splink 5 API, checked against the installed package):

* comparisons
  - **name** (first and last together, so a swapped order is its own level): both null /
    exact / first and last swapped / same canonical first name (nickname table) with last
    name Jaro-Winkler >= 0.92 / both Jaro-Winkler >= 0.92 / both >= 0.80 / first surname
    token equal (compound surnames "GARCIA LOPEZ" vs "GARCIA") / else;
  - **dob** (year, month, day kept apart so missing parts are representable): year missing on
    either side / exact / day and month transposed / same year and month / same year /
    years within 1 / else;
  - **sex**: exact match;
  - **place of birth**: exact / Jaro-Winkler >= 0.90 / else.
* blocking for predictions: same last name; same canonical first name and birth year; same
  full DOB; swapped names; same first surname token and birth year.
* training: ``probability_two_random_records_match`` from deterministic rules (exact names and
  DOB, assumed recall 0.7), u by random sampling, m by expectation maximisation on two blocking
  rules (full DOB -- trains the name, sex and place comparisons; last name -- trains DOB, sex
  and place). Trained on the synthetic encounter table of :func:`synthetic_encounters`
  (typos, nicknames, swapped name order, dropped second surnames, missing or transposed DOB
  parts).

Everything in this module is synthetic: names are drawn from short lists of common given
names and surnames and combined at random; nothing identifies a real person.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "BIOGRAPHIC_COLUMNS",
    "NICKNAMES",
    "BiographicLinker",
    "BiographicModelError",
    "best_by_identity",
    "corrupt_record",
    "evaluate_linkage",
    "prepare_records",
    "synthetic_encounters",
    "train_biographic_model",
]

BIOGRAPHIC_COLUMNS = ("first_name", "last_name", "dob", "sex", "place_of_birth")

# ------------------------------------------------------------------------------------------
# synthetic names (common given names and surnames; combined at random)
# ------------------------------------------------------------------------------------------
_FIRST_M = [
    "JOSE",
    "JUAN",
    "LUIS",
    "CARLOS",
    "JESUS",
    "MIGUEL",
    "FRANCISCO",
    "ANTONIO",
    "ALEJANDRO",
    "JORGE",
    "PEDRO",
    "MANUEL",
    "RICARDO",
    "EDUARDO",
    "FERNANDO",
    "RAFAEL",
    "ROBERTO",
    "ALBERTO",
    "JAVIER",
    "SERGIO",
    "OSCAR",
    "DANIEL",
    "DAVID",
    "MARIO",
    "RAUL",
    "HECTOR",
    "ENRIQUE",
    "IGNACIO",
    "GUILLERMO",
    "ARTURO",
    "WILLIAM",
    "ROBERT",
    "JAMES",
    "JOHN",
    "MICHAEL",
    "RICHARD",
    "THOMAS",
    "JOSEPH",
    "CHARLES",
    "ANTHONY",
    "NGUYEN",
    "WEI",
    "MOHAMMED",
    "ALI",
    "OMAR",
    "AHMED",
    "VIKTOR",
    "ANDREI",
    "DMITRI",
    "PIOTR",
]
_FIRST_F = [
    "MARIA",
    "GUADALUPE",
    "ROSA",
    "ANA",
    "JUANA",
    "MARGARITA",
    "ELIZABETH",
    "VERONICA",
    "PATRICIA",
    "LETICIA",
    "GABRIELA",
    "ALEJANDRA",
    "CONCEPCION",
    "ROSARIO",
    "DOLORES",
    "ELENA",
    "CARMEN",
    "TERESA",
    "SOFIA",
    "LUCIA",
    "MARTHA",
    "SILVIA",
    "JENNIFER",
    "JESSICA",
    "KATHERINE",
    "MARGARET",
    "SUSAN",
    "LINDA",
    "BARBARA",
    "FATIMA",
    "AISHA",
    "MEI",
    "LIN",
    "OLGA",
    "IRINA",
]
_SURNAMES = [
    "GARCIA",
    "RODRIGUEZ",
    "MARTINEZ",
    "HERNANDEZ",
    "LOPEZ",
    "GONZALEZ",
    "PEREZ",
    "SANCHEZ",
    "RAMIREZ",
    "TORRES",
    "FLORES",
    "RIVERA",
    "GOMEZ",
    "DIAZ",
    "REYES",
    "MORALES",
    "CRUZ",
    "ORTIZ",
    "GUTIERREZ",
    "CHAVEZ",
    "RAMOS",
    "RUIZ",
    "MENDOZA",
    "ALVAREZ",
    "CASTILLO",
    "JIMENEZ",
    "MORENO",
    "ROMERO",
    "HERRERA",
    "MEDINA",
    "AGUILAR",
    "VARGAS",
    "GUZMAN",
    "SALAZAR",
    "CASTRO",
    "VASQUEZ",
    "ESPINOZA",
    "SOTO",
    "DELGADO",
    "ESTRADA",
    "SMITH",
    "JOHNSON",
    "WILLIAMS",
    "BROWN",
    "JONES",
    "MILLER",
    "DAVIS",
    "WILSON",
    "ANDERSON",
    "TAYLOR",
    "THOMAS",
    "MOORE",
    "NGUYEN",
    "TRAN",
    "PHAM",
    "CHEN",
    "WANG",
    "LI",
    "KHAN",
    "HUSSAIN",
    "IVANOV",
    "PETROV",
    "KOWALSKI",
    "NOWAK",
    "OKAFOR",
    "MENSAH",
]
_PLACES = [
    "MEXICO",
    "GUATEMALA",
    "EL SALVADOR",
    "HONDURAS",
    "NICARAGUA",
    "DOMINICAN REPUBLIC",
    "CUBA",
    "HAITI",
    "COLOMBIA",
    "ECUADOR",
    "PERU",
    "VENEZUELA",
    "BRAZIL",
    "JAMAICA",
    "PHILIPPINES",
    "VIETNAM",
    "CHINA",
    "INDIA",
    "PAKISTAN",
    "NIGERIA",
    "GHANA",
    "POLAND",
    "UKRAINE",
    "RUSSIA",
    "CANADA",
    "UNITED STATES",
    "SOMALIA",
    "ETHIOPIA",
    "KOREA",
    "BANGLADESH",
]

NICKNAMES: dict[str, tuple[str, ...]] = {
    "JOSE": ("PEPE", "CHEPE"),
    "FRANCISCO": ("PACO", "PANCHO", "FRANK"),
    "JESUS": ("CHUY",),
    "IGNACIO": ("NACHO",),
    "ENRIQUE": ("KIKE", "HENRY"),
    "EDUARDO": ("LALO", "EDDIE"),
    "ALEJANDRO": ("ALEX",),
    "ROBERTO": ("BETO", "BOB"),
    "ALBERTO": ("BETO", "AL"),
    "GUILLERMO": ("MEMO", "WILLIAM"),
    "MANUEL": ("MANNY",),
    "ANTONIO": ("TONY", "TOÑO"),
    "RICARDO": ("RICKY",),
    "WILLIAM": ("BILL", "WILL", "BILLY"),
    "ROBERT": ("BOB", "ROB", "BOBBY"),
    "JAMES": ("JIM", "JIMMY"),
    "JOHN": ("JACK", "JOHNNY"),
    "MICHAEL": ("MIKE",),
    "RICHARD": ("RICK", "DICK"),
    "THOMAS": ("TOM", "TOMMY"),
    "JOSEPH": ("JOE",),
    "CHARLES": ("CHARLIE", "CHUCK"),
    "ANTHONY": ("TONY",),
    "DANIEL": ("DANNY",),
    "DAVID": ("DAVE",),
    "GUADALUPE": ("LUPE",),
    "CONCEPCION": ("CONCHA", "CONCHITA"),
    "ROSARIO": ("CHAYO",),
    "DOLORES": ("LOLA",),
    "MARGARITA": ("MAGGIE",),
    "ELIZABETH": ("LIZ", "BETH", "BETTY"),
    "MARGARET": ("PEGGY", "MAGGIE"),
    "KATHERINE": ("KATE", "KATHY"),
    "JENNIFER": ("JENNY",),
    "PATRICIA": ("PATTY",),
    "SUSAN": ("SUE",),
    "DMITRI": ("DIMA",),
    "ALEJANDRA": ("ALE",),
    "TERESA": ("TERE",),
}


def _strip(s: str) -> str:
    s = unicodedata.normalize("NFKD", s)
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = re.sub(r"[^A-Za-z ]+", " ", s).upper()
    return re.sub(r"\s+", " ", s).strip()


_CANONICAL: dict[str, str] = {}
for _formal, _nicks in NICKNAMES.items():
    for _nick in _nicks:
        _CANONICAL.setdefault(_strip(_nick), _formal)  # first formal name wins for shared nicks


def canonical_first_name(name: str | None) -> str | None:
    if not name:
        return None
    return _CANONICAL.get(name, name)


# ------------------------------------------------------------------------------------------
# synthetic data
# ------------------------------------------------------------------------------------------
_KEYBOARD = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _typo(rng: np.random.Generator, s: str) -> str:
    if len(s) < 3:
        return s
    i = int(rng.integers(1, len(s) - 1))  # keep the first letter (as clerks usually do)
    op = int(rng.integers(0, 4))
    if op == 0:  # substitution
        return s[:i] + _KEYBOARD[int(rng.integers(0, 26))] + s[i + 1 :]
    if op == 1:  # deletion
        return s[:i] + s[i + 1 :]
    if op == 2:  # insertion
        return s[:i] + _KEYBOARD[int(rng.integers(0, 26))] + s[i:]
    return s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]  # transposition


def corrupt_record(
    rng: np.random.Generator, rec: dict[str, Any], *, rate: float = 1.0
) -> dict[str, Any]:
    """A noisy re-recording of ``rec`` (fields as in :data:`BIOGRAPHIC_COLUMNS`, DOB ISO)."""
    r = {
        k: (None if v is None or (not isinstance(v, str) and pd.isna(v)) else v)
        for k, v in rec.items()
    }
    first, last = r.get("first_name") or "", r.get("last_name") or ""
    if first in NICKNAMES and rng.random() < 0.12 * rate:
        first = str(rng.choice(NICKNAMES[first]))
    if rng.random() < 0.15 * rate:
        first = _typo(rng, first)
    if " " in last and rng.random() < 0.35 * rate:
        last = last.split(" ")[0]  # second (maternal) surname dropped
    if rng.random() < 0.15 * rate:
        last = _typo(rng, last)
    if rng.random() < 0.05 * rate:
        first, last = last, first
    r["first_name"], r["last_name"] = first or None, last or None
    dob = r.get("dob")
    if dob and re.fullmatch(r"\d{4}-\d{2}-\d{2}", dob):
        y, m, d = dob.split("-")
        u = rng.random()
        if u < 0.03 * rate:
            dob = None
        elif u < 0.06 * rate:
            dob = f"{y}"  # year only
        elif u < 0.11 * rate:
            dob = f"{y}-{m}"  # day missing
        elif u < 0.15 * rate and int(d) <= 12 and d != m:
            dob = f"{y}-{d}-{m}"  # day and month transposed
        elif u < 0.17 * rate:
            dob = f"{int(y) + int(rng.choice([-1, 1]))}-{m}-{d}"
        r["dob"] = dob
    if r.get("place_of_birth") and rng.random() < 0.08 * rate:
        r["place_of_birth"] = None
    if r.get("place_of_birth") and rng.random() < 0.05 * rate:
        r["place_of_birth"] = _typo(rng, r["place_of_birth"])
    if rng.random() < 0.01 * rate:
        r["sex"] = {"M": "F", "F": "M"}.get(r.get("sex") or "")
    return r


def _person(rng: np.random.Generator) -> dict[str, Any]:
    sex = "M" if rng.random() < 0.8 else "F"
    first = str(rng.choice(_FIRST_M if sex == "M" else _FIRST_F))
    last = str(rng.choice(_SURNAMES))
    if rng.random() < 0.35:
        last = f"{last} {rng.choice(_SURNAMES)}"
    start = np.datetime64("1950-01-01")
    dob = str(start + np.timedelta64(int(rng.integers(0, 365 * 55)), "D"))
    return {"first_name": first, "last_name": last, "dob": dob, "sex": sex,
            "place_of_birth": str(rng.choice(_PLACES))}  # fmt: skip


def synthetic_encounters(
    n_identities: int, *, seed: int = 0, max_encounters: int = 4, first_identity: int = 0
) -> pd.DataFrame:
    """An encounter table: each identity has 1..max_encounters noisy recordings of one person.

    Columns: ``encounter_id`` (str), ``identity_id`` (int), ``first_name``, ``last_name``,
    ``dob`` (ISO ``YYYY-MM-DD``, or ``YYYY-MM`` / ``YYYY`` when parts are missing, or None),
    ``sex``, ``place_of_birth``, ``encounter_date``.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_identities):
        ident = first_identity + k
        person = _person(rng)
        n_enc = int(rng.integers(1, max_encounters + 1))
        for e in range(n_enc):
            rec = person if e == 0 and rng.random() < 0.7 else corrupt_record(rng, person)
            rows.append(
                {
                    "encounter_id": f"E{ident:08d}-{e}",
                    "identity_id": ident,
                    **rec,
                    "encounter_date": str(
                        np.datetime64("2005-01-01")
                        + np.timedelta64(int(rng.integers(0, 6 * 365)), "D")
                    ),
                }
            )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------
# preparation
# ------------------------------------------------------------------------------------------
def _name_col(s: pd.Series) -> pd.Series:
    return s.map(lambda v: (_strip(str(v)) or None) if v is not None and not pd.isna(v) else None)


def _dob_parts(v: Any) -> tuple[int | None, int | None, int | None]:
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None, None, None
    if not isinstance(v, str):
        v = pd.Timestamp(v).date().isoformat()
    m = re.fullmatch(r"\s*(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?\s*", v)
    if not m:
        return None, None, None
    y, mo, d = (int(g) if g else None for g in m.groups())
    return y, mo, d


def prepare_records(records: Any, *, id_column: str, id_prefix: str = "") -> pd.DataFrame:
    """Normalise biographic records for the model (DataFrame or pyarrow Table in).

    Needs ``id_column`` and the columns in :data:`BIOGRAPHIC_COLUMNS` (missing optional ones
    are treated as unknown); ``identity_id`` is carried through when present.
    """
    df = (
        records.to_pandas()
        if hasattr(records, "to_pandas") and not isinstance(records, pd.DataFrame)
        else records
    )
    if not isinstance(df, pd.DataFrame):
        raise TypeError(
            f"records must be a pandas DataFrame or pyarrow Table, got {type(records).__name__}"
        )
    if id_column not in df.columns:
        raise ValueError(f"records lacks the id column {id_column!r}")
    for col in ("first_name", "last_name"):
        if col not in df.columns:
            raise ValueError(f"records lacks the column {col!r}")
    out = pd.DataFrame({"record_id": id_prefix + df[id_column].astype(str)})
    out["first_name"] = _name_col(df["first_name"]).values
    out["last_name"] = _name_col(df["last_name"]).values
    out["first_name_canonical"] = out["first_name"].map(canonical_first_name)
    out["surname1"] = out["last_name"].map(lambda s: s.split(" ")[0] if s else None)
    parts = [_dob_parts(v) for v in (df["dob"] if "dob" in df.columns else [None] * len(df))]
    for i, col in enumerate(("dob_year", "dob_month", "dob_day")):
        out[col] = pd.array([p[i] for p in parts], dtype="Int64")
    sex = df["sex"] if "sex" in df.columns else pd.Series([None] * len(df))
    out["sex"] = [
        s if s in ("M", "F") else None
        for s in sex.map(lambda v: _strip(str(v))[:1] if v is not None and not pd.isna(v) else None)
    ]
    pob = df["place_of_birth"] if "place_of_birth" in df.columns else pd.Series([None] * len(df))
    out["place_of_birth"] = _name_col(pd.Series(list(pob))).values
    for col in (
        "record_id",
        "first_name",
        "last_name",
        "first_name_canonical",
        "surname1",
        "sex",
        "place_of_birth",
    ):
        out[col] = out[col].astype("string")
    if "identity_id" in df.columns:
        out["identity_id"] = pd.array(df["identity_id"].values, dtype="Int64")
    else:
        out["identity_id"] = pd.array([None] * len(df), dtype="Int64")
    return out.reset_index(drop=True)


# ------------------------------------------------------------------------------------------
# the Splink model
# ------------------------------------------------------------------------------------------
class BiographicModelError(RuntimeError):
    """Splink could not build, train or apply the biographic model."""


def _quiet_connection() -> Any:
    import duckdb

    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    return con


def _settings() -> Any:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    name = cl.CustomComparison(
        output_column_name="name",
        comparison_description="first and last name together",
        comparison_levels=[
            cll.And(cll.NullLevel("first_name"), cll.NullLevel("last_name")),
            cll.And(cll.ExactMatchLevel("first_name"), cll.ExactMatchLevel("last_name")),
            cll.ColumnsReversedLevel("first_name", "last_name", symmetrical=True),
            cll.And(cll.ExactMatchLevel("first_name_canonical"), cll.JaroWinklerLevel("last_name", 0.92)),
            cll.And(cll.JaroWinklerLevel("first_name", 0.92), cll.JaroWinklerLevel("last_name", 0.92)),
            cll.And(cll.JaroWinklerLevel("first_name", 0.80), cll.JaroWinklerLevel("last_name", 0.80)),
            cll.And(cll.ExactMatchLevel("surname1"), cll.JaroWinklerLevel("first_name_canonical", 0.88)),
            cll.ElseLevel(),
        ],
    )  # fmt: skip
    dob = cl.CustomComparison(
        output_column_name="dob",
        comparison_description="date of birth (year, month, day; parts may be missing)",
        comparison_levels=[
            cll.CustomLevel("dob_year_l IS NULL OR dob_year_r IS NULL", "DOB missing").configure(is_null_level=True),
            cll.CustomLevel(
                "dob_year_l = dob_year_r AND dob_month_l = dob_month_r AND dob_day_l = dob_day_r",
                "exact DOB",
            ),
            cll.CustomLevel(
                "dob_year_l = dob_year_r AND dob_month_l = dob_day_r AND dob_day_l = dob_month_r",
                "day and month transposed",
            ),
            cll.CustomLevel("dob_year_l = dob_year_r AND dob_month_l = dob_month_r", "same year and month"),
            cll.CustomLevel("dob_year_l = dob_year_r", "same year"),
            cll.CustomLevel("abs(dob_year_l - dob_year_r) <= 1", "years within 1"),
            cll.ElseLevel(),
        ],
    )  # fmt: skip
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            name,
            dob,
            cl.ExactMatch("sex"),
            cl.JaroWinklerAtThresholds("place_of_birth", [0.90]),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("last_name"),
            block_on("first_name_canonical", "dob_year"),
            block_on("dob_year", "dob_month", "dob_day"),
            "l.first_name = r.last_name AND l.last_name = r.first_name",
            block_on("surname1", "dob_year"),
        ],
        additional_columns_to_retain=["identity_id"],
        retain_matching_columns=True,
    )


def train_biographic_model(
    encounters: Any, *, seed: int = 42, u_max_pairs: float = 2e6
) -> dict[str, Any]:
    """Train the Fellegi-Sunter model on an encounter table; returns the Splink model dict."""
    from splink import DuckDBAPI, Linker, block_on

    df = prepare_records(encounters, id_column="encounter_id", id_prefix="enc:")
    try:
        db = DuckDBAPI(_quiet_connection())
        sdf = db.register(df, dataset_display_name="encounters")
        # log_level=None: Splink must not configure logging itself; the CLI keeps library log
        # lines off the terminal unless --verbose (cli.main._quiet_libraries)
        linker = Linker(sdf, _settings(), log_level=None)
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "last_name", "dob_year", "dob_month", "dob_day")], recall=0.7
        )
        linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on("dob_year", "dob_month", "dob_day")
        )
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("last_name"))
        model = linker.misc.save_model_to_json()
    except Exception as exc:  # Splink raises many exception types; name the stage's failure
        raise BiographicModelError(f"Splink training failed: {type(exc).__name__}: {exc}") from exc
    return model


@dataclass
class BiographicLinker:
    """Links bookings' biographics against an encounter table with a trained Splink model."""

    model: dict[str, Any]
    threshold_match_probability: float = 0.5

    @classmethod
    def train(cls, encounters: Any, **kwargs: Any) -> BiographicLinker:
        return cls(train_biographic_model(encounters, **kwargs))

    @classmethod
    def load(cls, path: str | Path) -> BiographicLinker:
        return cls(json.loads(Path(path).read_text()))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.model, indent=1))

    def link(
        self,
        bookings: Any,
        encounters: Any,
        *,
        booking_id_column: str = "booking_id",
        threshold_match_probability: float | None = None,
        top_n: int | None = 5,
    ) -> pd.DataFrame:
        """Candidate encounters for each booking, best first.

        Returns columns ``booking_id, encounter_id, identity_id, match_probability,
        match_weight, confidence, requires_human_verification`` -- the last two always
        ``"biographic"`` and ``True``.
        """
        from splink import DuckDBAPI, Linker

        thr = (
            self.threshold_match_probability
            if threshold_match_probability is None
            else threshold_match_probability
        )
        left = prepare_records(bookings, id_column=booking_id_column, id_prefix="bkg:")
        right = prepare_records(encounters, id_column="encounter_id", id_prefix="enc:")
        if left.empty:
            raise ValueError("bookings is empty: nothing to link")
        try:
            db = DuckDBAPI(_quiet_connection())
            l_sdf = db.register(left, dataset_display_name="bookings")
            r_sdf = db.register(right, dataset_display_name="encounters")
            linker = Linker(r_sdf, json.loads(json.dumps(self.model)), log_level=None)
            pred = linker.inference.predict_between(
                l_sdf, r_sdf, threshold_match_probability=thr, warning_mode="never"
            ).as_pandas_dataframe()
        except Exception as exc:
            raise BiographicModelError(
                f"Splink prediction failed: {type(exc).__name__}: {exc}"
            ) from exc
        return _candidates(pred, top_n)


def _candidates(pred: pd.DataFrame, top_n: int | None) -> pd.DataFrame:
    cols = ["booking_id", "encounter_id", "identity_id", "match_probability", "match_weight",
            "confidence", "requires_human_verification"]  # fmt: skip
    if pred.empty:
        return pd.DataFrame(columns=cols)
    # predict_between puts the booking on the left, but normalise in case an id ordering rule
    # swapped a pair.
    left_is_booking = pred["record_id_l"].str.startswith("bkg:")
    b = np.where(left_is_booking, pred["record_id_l"], pred["record_id_r"])
    e = np.where(left_is_booking, pred["record_id_r"], pred["record_id_l"])
    ident = np.where(left_is_booking, pred["identity_id_r"], pred["identity_id_l"])
    out = pd.DataFrame(
        {
            "booking_id": pd.Series(b).str.removeprefix("bkg:"),
            "encounter_id": pd.Series(e).str.removeprefix("enc:"),
            "identity_id": pd.array(ident, dtype="Int64"),
            "match_probability": pred["match_probability"].to_numpy(dtype=float),
            "match_weight": pred["match_weight"].to_numpy(dtype=float),
        }
    )
    both_sides = pd.Series(b).str.startswith("bkg:") & pd.Series(e).str.startswith("enc:")
    out = out[both_sides.to_numpy()]
    out = out.sort_values(
        ["booking_id", "match_probability"], ascending=[True, False], kind="stable"
    )
    if top_n is not None:
        out = out.groupby("booking_id", sort=False).head(top_n)
    out["confidence"] = "biographic"
    out["requires_human_verification"] = True
    return out.reset_index(drop=True)[cols]


def best_by_identity(candidates: pd.DataFrame) -> pd.DataFrame:
    """The best candidate encounter per (booking, identity)."""
    if candidates.empty:
        return candidates
    return (
        candidates.sort_values("match_probability", ascending=False, kind="stable")
        .drop_duplicates(["booking_id", "identity_id"])
        .reset_index(drop=True)
    )


def evaluate_linkage(
    n_identities: int = 20_000,
    n_bookings: int = 1_000,
    *,
    seed: int = 0,
    threshold_match_probability: float = 0.5,
    linker: BiographicLinker | None = None,
) -> dict[str, Any]:
    """Train (unless ``linker`` is given) and measure on fresh synthetic data.

    Bookings are noisy re-recordings (:func:`corrupt_record`) of ``n_bookings`` enrolled people
    plus ``n_bookings`` people not in the table. Reports, at ``threshold_match_probability``:
    the share of enrolled bookings whose top candidate is their identity (``recall_top1``),
    the share with no candidate (``missed``), the share whose top candidate is someone else
    (``wrong_top1``) and the share of non-enrolled bookings with any candidate
    (``false_candidate_rate``) -- each of which a human would have to reject.
    """
    rng = np.random.default_rng(seed + 1)
    encounters = synthetic_encounters(n_identities, seed=seed)
    if linker is None:
        linker = BiographicLinker.train(encounters)
    firsts = encounters.drop_duplicates("identity_id").set_index("identity_id")
    enrolled = rng.choice(n_identities, n_bookings, replace=False)
    rows = []
    for i in enrolled:
        rec = firsts.loc[int(i), list(BIOGRAPHIC_COLUMNS)].to_dict()
        rows.append(dict(corrupt_record(rng, rec), booking_id=f"IN{i}"))
    outsiders = synthetic_encounters(n_bookings, seed=seed + 999, max_encounters=1)
    for j, rec in enumerate(outsiders[list(BIOGRAPHIC_COLUMNS)].to_dict("records")):
        rows.append(dict(rec, booking_id=f"OUT{j}"))
    thresholds = sorted({0.1, 0.5, 0.9, threshold_match_probability})
    cands = linker.link(
        pd.DataFrame(rows), encounters, threshold_match_probability=thresholds[0], top_n=1
    )
    by_threshold = {}
    for t in thresholds:
        c = cands[cands["match_probability"] >= t]
        top = dict(zip(c["booking_id"], c["identity_id"], strict=True))
        hits = sum(top.get(f"IN{i}") == i for i in enrolled)
        missed = sum(f"IN{i}" not in top for i in enrolled)
        by_threshold[f"{t:g}"] = {
            "recall_top1": hits / n_bookings,
            "missed": missed / n_bookings,
            "wrong_top1": (n_bookings - hits - missed) / n_bookings,
            "false_candidate_rate": sum(f"OUT{j}" in top for j in range(n_bookings)) / n_bookings,
        }
    return {
        "n_identities": n_identities,
        "n_encounters": len(encounters),
        "n_bookings_enrolled": n_bookings,
        "n_bookings_not_enrolled": n_bookings,
        **by_threshold[f"{threshold_match_probability:g}"],
        "threshold_match_probability": threshold_match_probability,
        "by_threshold": by_threshold,
        "all_flagged_for_human_verification": bool(cands["requires_human_verification"].all()),
        "probability_two_random_records_match": linker.model.get(
            "probability_two_random_records_match"
        ),
    }
