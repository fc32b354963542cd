"""Derived categories of Booking outcome v1: ``charge_category`` and ``conviction_status``.

``charge_category`` is the most serious current charge of a booking, in the order of
``schema.CHARGE_CATEGORIES`` (minor_traffic < other_minor_misdemeanor < serious_traffic <
other_misdemeanor < felony). It is defined ONCE, as a law expression tree
(``charge_category_expr``) over the offense predicates of ``securecomm.law.offenses`` — the
same predicates the action rules use (DESIGN 3.1, TF III rec. 1) — and read by both
interpreters:

- ``charge_category_of(charges)``: one booking, with ``law.expr.PythonCompiler``;
- ``add_category_columns(table)``: a flat caseload table (docs/caseload-columns.md,
  ``charges`` is list<struct>), with the bulk Ibis compiler (``bulk/ibis_compiler.py``).

The minor-traffic / minor-misdemeanor code lists and literal patterns are pack parameters
(``law/parameters.py``), so the category depends on the pack: the parameters of a named pack are
bound (default ``tfsc-2011``, the Task Force consensus, whose categories the report defines).

Per charge, the first that holds: felony (severity) > serious traffic > minor traffic > minor
misdemeanor (``other_minor_misdemeanor``: non-traffic public-order) > anything else
(``other_misdemeanor``: any other misdemeanor or infraction, or an unknown severity). The booking
takes the most serious of its charges. So a booking is ``minor_traffic`` exactly when every
charge is minor traffic — the condition of the TF III rec. 1 no-detainer rule
(``actions.tfsc.minor-traffic-only``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

import ibis
import ibis.expr.types as ir

from securecomm.bulk.ibis_compiler import IbisCompiler, simplify
from securecomm.law import offenses as off
from securecomm.law.expr import Expr, PythonCompiler, bind_params, exists, if_then
from securecomm.law.packs import get_pack

from .schema import CHARGE_CATEGORIES, CONVICTION_STATUSES

__all__ = [
    "DEFAULT_POLICY",
    "NO_CHARGE_CATEGORY",
    "add_category_columns",
    "bound_charge_category_expr",
    "charge_category_expr",
    "charge_category_of",
    "charge_category_rank",
    "conviction_status_expr",
    "conviction_status_of",
]

DEFAULT_POLICY = "tfsc-2011"

# A booking with no current charge recorded. Interpretation: the TF III rec. 1 rules never
# treat such a booking as minor (``expr.every`` is non-vacuous), so neither may the statistics;
# it is counted in the neutral residual category. The schema column is not nullable.
NO_CHARGE_CATEGORY = "other_misdemeanor"


def _other_charge() -> Expr:
    """A non-felony charge in none of the named DESIGN 3.1 categories."""
    return ~(
        off.is_felony()
        | off.is_serious_traffic()
        | off.is_minor_traffic()
        | off.is_minor_misdemeanor()
    )


def charge_category_expr() -> Expr:
    """The booking's ``charge_category`` as an (unbound) law expression over ``charges``.

    Branches go from the most serious category down; the first that some charge reaches wins.
    ``is_minor_traffic`` / ``is_minor_misdemeanor`` exclude serious traffic and traffic
    respectively (offenses.py), so the five per-charge categories partition all charges.
    """
    return if_then(
        [
            (exists("charges", off.is_felony()), "felony"),
            (exists("charges", _other_charge()), "other_misdemeanor"),
            (exists("charges", off.is_serious_traffic()), "serious_traffic"),
            (exists("charges", off.is_minor_misdemeanor()), "other_minor_misdemeanor"),
            (exists("charges", off.is_minor_traffic()), "minor_traffic"),
        ],
        NO_CHARGE_CATEGORY,
    )


def _policy_params(policy: str) -> dict[str, Any]:
    pack = get_pack(policy)  # VariantError naming the unknown pack and the known ones
    return {name: p.value for name, p in pack.parameters.items()}


@lru_cache(maxsize=8)
def bound_charge_category_expr(policy: str = DEFAULT_POLICY) -> Expr:
    """``charge_category_expr`` with the parameters of pack ``policy`` bound and folded."""
    return simplify(bind_params(charge_category_expr(), _policy_params(policy)))


@lru_cache(maxsize=8)
def _python_fn(policy: str):
    return PythonCompiler({}).compile(bound_charge_category_expr(policy))


# The offense fields the predicates read; absent optional ones default as in flatten.py.
_CHARGE_DEFAULTS = {"ncic": None, "literal": None, "severity": None, "injury": False,
                     "domestic_violence": False}  # fmt: skip


def charge_category_of(
    charges: Sequence[Mapping[str, Any]] | None, policy: str = DEFAULT_POLICY
) -> str:
    """The most serious category of a booking's current charges (flat offense records:
    ``ncic``, ``literal``, ``severity``, optional ``injury`` / ``domestic_violence``)."""
    records = [{**_CHARGE_DEFAULTS, **c} for c in charges or ()]
    return _python_fn(policy)({"charges": records}, None, {})


def charge_category_rank(category: str) -> int:
    """0 (minor_traffic) .. 4 (felony); ValueError naming an unknown category."""
    try:
        return CHARGE_CATEGORIES.index(category)
    except ValueError:
        raise ValueError(
            f"charge_category: unknown value {category!r}; one of {', '.join(CHARGE_CATEGORIES)}"
        ) from None


def add_category_columns(
    table: ir.Table, policy: str = DEFAULT_POLICY, *, charges: str = "charges"
) -> ir.Table:
    """``table`` plus a ``charge_category`` string column, from its ``charges`` list<struct>
    column (the flat caseload layout), compiled by the bulk Ibis compiler."""
    if charges not in table.columns:
        raise ValueError(f"add_category_columns: no column {charges!r} in the table")
    dtype = table[charges].type()
    if not (dtype.is_array() and dtype.value_type.is_struct()):
        raise ValueError(f"add_category_columns: column {charges!r} must be list<struct>, "
                         f"got {dtype}")  # fmt: skip
    needed = {"ncic", "literal", "severity", "injury"}
    missing = sorted(needed - set(dtype.value_type.names))
    if missing:
        raise ValueError(f"add_category_columns: {charges!r} elements lack fields {missing}")
    source = table if charges == "charges" else table.mutate(charges=table[charges])
    value = IbisCompiler(source).compile(bound_charge_category_expr(policy))
    return table.mutate(charge_category=value.cast("string"))


# --------------------------------------------------------------------------- conviction status


def conviction_status_of(has_conviction: bool, has_record: bool) -> str:
    """``schema.CONVICTION_STATUSES`` of a booking.

    ``convicted``: any conviction — a prior one, or a current charge disposed as convicted
    (in the flat layout: ``convictions`` is non-empty, it holds both);
    ``charged_only``: a criminal-history record (arrests) but no conviction;
    ``no_criminal_history``: no criminal-history record before this booking.
    A conviction implies a record, whatever ``has_record`` says.
    """
    if has_conviction:
        return CONVICTION_STATUSES[0]
    return CONVICTION_STATUSES[1] if has_record else CONVICTION_STATUSES[2]


def conviction_status_expr(
    has_conviction: ir.BooleanValue, has_record: ir.BooleanValue
) -> ir.StringValue:
    """``conviction_status_of`` as an Ibis expression (null booleans count as false)."""
    return ibis.cases(
        (has_conviction.fill_null(False), CONVICTION_STATUSES[0]),
        (has_record.fill_null(False), CONVICTION_STATUSES[1]),
        else_=CONVICTION_STATUSES[2],
    )
