"""Criminal levels from convictions (Morton, March 2, 2011; report II.2; DESIGN 3.3)."""

from __future__ import annotations

from .. import offenses as off
from ..expr import Var, if_then
from ..model import Rule
from ..parameters import INA, MORTON_MARCH
from .common import convictions_where

_level_1 = Var("n_aggravated_felonies").ge(1) | Var("n_felonies").ge(2)
_level_2 = Var("n_felonies").ge(1) | Var("n_misdemeanors_for_level").ge(3)
_level_3 = Var("n_misdemeanors_for_level").ge(1)

VARIABLES = {
    "level": if_then([(_level_1, 1), (_level_2, 2), (_level_3, 3)], None),
    # The Task Force packs test "a higher category" with minor traffic never counted (DESIGN 3.6)
    "level_excl_minor_traffic": if_then(
        [
            (_level_1, 1),
            (Var("n_felonies").ge(1) | Var("n_misdemeanors_excl_minor_traffic").ge(3), 2),
            (Var("n_misdemeanors_excl_minor_traffic").ge(1), 3),
        ],
        None,
    ),
}

RULES = (
    Rule("levels.level-1", "finding", Var("level").eq(1), f"{MORTON_MARCH}, Level 1",
         "Level 1: convicted of an aggravated felony or of two or more felonies."),
    Rule("levels.level-2", "finding", Var("level").eq(2), f"{MORTON_MARCH}, Level 2",
         "Level 2: convicted of a felony or of three or more misdemeanors."),
    Rule("levels.level-3", "finding", Var("level").eq(3), f"{MORTON_MARCH}, Level 3",
         "Level 3: convicted of one or two misdemeanors."),
    Rule("levels.aggravated-felony.explicit", "finding",
         convictions_where(off.is_explicit_aggravated_felony()).ge(1), INA,
         "A conviction is recorded as an aggravated felony."),
    *(
        Rule(f"levels.aggravated-felony.{p.paragraph}", "finding",
             convictions_where(off.is_aggravated_felony_by(p)).ge(1), p.citation,
             f"A conviction is an aggravated felony by its offense: {p.description}.")
        for p in off.AGGRAVATED_FELONY_PARAGRAPHS
    ),
)  # fmt: skip
