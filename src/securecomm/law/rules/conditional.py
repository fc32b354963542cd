"""The conditional detainer after it is lodged: which charges it waits on, what activates it,
what makes it lapse (HSAC Task Force report III rec. 1, "post-conviction model").

The report: a conditional detainer "would become fully operational only if the person is
actually convicted of the offense". These are pure functions over a case's current charges (the
flat offense fields of ``law.flatten`` plus ``disposition``) and a pack's parameter values; the
pipeline (``interop.lifecycle.record_disposition``) calls them when a disposition is recorded,
and ``securecomm decide`` applies the same test at decision time
(``actions.tfsc.minor-misdemeanor-disposed``), so the two cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..expr import PythonCompiler, bind_params
from ..flatten import fold_literal
from ..offenses import is_minor_traffic
from ..parameters import TF


@dataclass(frozen=True)
class LifecycleRule:
    """A rule of the conditional detainer's life, cited like every rule of a pack."""

    id: str
    citation: str
    text: str


_POST_CONVICTION = f"{TF} III rec. 1 (post-conviction model)"

CONDITIONING = LifecycleRule(
    "conditional.conditioning-charges", _POST_CONVICTION,
    "A conditional detainer waits on the charges that are not minor traffic (a minor-traffic "
    "conviction never supports a detainer); on every charge if all are minor traffic.",
)  # fmt: skip
ACTIVATION = LifecycleRule(
    "conditional.activation", _POST_CONVICTION,
    "The subject was convicted of a charge the conditional detainer waits on: it becomes fully "
    "operational.",
)  # fmt: skip
LAPSE = LifecycleRule(
    "conditional.lapse", _POST_CONVICTION,
    "Every charge the conditional detainer waits on was dismissed or acquitted: nothing remains "
    "to condition on, it lapses and authorizes no hold.",
)  # fmt: skip
RULES = (CONDITIONING, ACTIVATION, LAPSE)

DISPOSED = ("convicted", "dismissed", "acquitted")
NOT_CONVICTED = ("dismissed", "acquitted")


@dataclass(frozen=True)
class ConditionalEffect:
    """What a recorded disposition does to a pending conditional detainer."""

    kind: Literal["activate", "lapse"] | None  # None: it still waits
    rule: LifecycleRule | None
    waits_on: tuple[int, ...]
    still_pending: tuple[int, ...] = field(default=())


def _offense(charge: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "ncic": str(charge.get("ncic") or ""),
        "literal": fold_literal(str(charge.get("literal") or "")),
        "severity": str(charge.get("severity") or ""),
        "injury": bool(charge.get("injury", False)),
        "domestic_violence": bool(charge.get("domestic_violence", False)),
    }


def conditioning_charges(
    charges: Sequence[Mapping[str, Any]], params: Mapping[str, Any]
) -> list[int]:
    """Indexes of the charges a conditional detainer waits on (rule ``CONDITIONING``)."""
    test = PythonCompiler({}).compile(bind_params(is_minor_traffic(), dict(params)))
    picked = [i for i, c in enumerate(charges) if not test({}, _offense(c), {})]
    return picked or list(range(len(charges)))


def disposition_effect(
    charges: Sequence[Mapping[str, Any]], charge_index: int, params: Mapping[str, Any]
) -> ConditionalEffect:
    """The effect on a pending conditional detainer of the disposition just recorded on charge
    ``charge_index``; ``charges`` carry every charge's current ``disposition`` (that one
    included). A conviction of a charge it waits on activates it (``ACTIVATION``); once every
    charge it waits on is dismissed or acquitted, it lapses (``LAPSE``)."""
    if not 0 <= charge_index < len(charges):
        raise ValueError(f"charge_index: {charge_index} is not a charge of the case")
    waits_on = conditioning_charges(charges, params)
    disposition = charges[charge_index].get("disposition")
    pending = tuple(i for i in waits_on if charges[i].get("disposition") not in DISPOSED)
    if disposition == "convicted" and charge_index in waits_on:
        return ConditionalEffect("activate", ACTIVATION, tuple(waits_on), pending)
    if disposition in NOT_CONVICTED and all(
        charges[i].get("disposition") in NOT_CONVICTED for i in waits_on
    ):
        return ConditionalEffect("lapse", LAPSE, tuple(waits_on), pending)
    return ConditionalEffect(None, None, tuple(waits_on), pending)
