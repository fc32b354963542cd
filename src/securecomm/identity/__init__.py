"""Identity: 1:N biometric search, aliases, and biographic linkage (all on synthetic data).

* :mod:`.templates` -- seeded synthetic template model (captures with realistic noise, quality);
* :mod:`.gallery` -- :class:`BiometricGallery` (faiss), :class:`DecisionPolicy`, :class:`MatchResult`;
* :mod:`.metrics` -- FMR / FNMR, FNIR / FPIR, thresholds for a target FMR;
* :mod:`.aliases` -- every name and DOB used across a matched identity's encounters;
* :mod:`.biographic` -- Splink (DuckDB) linkage when no usable template exists: always
  ``confidence="biographic"`` and ``requires_human_verification=True``.

The package does not depend on the database layer: templates come in as numpy arrays or
iterables of ``(ids, vectors)`` chunks, encounters as pandas DataFrames or Arrow tables.
Splink is imported lazily, only by the biographic functions.
"""

from securecomm.identity.aliases import Alias, AliasReport, aliases_for, name_key
from securecomm.identity.gallery import (
    DEFAULT_POLICY,
    BiometricGallery,
    DecisionPolicy,
    GalleryError,
    GalleryFileError,
    IndexParams,
    MatchResult,
)
from securecomm.identity.metrics import (
    ErrorRates,
    error_rates,
    identification_rates,
    tail_fmr_from_topk,
    threshold_for_fmr,
)
from securecomm.identity.templates import (
    DEFAULT_MIN_QUALITY,
    Captures,
    TemplateModel,
    usable_template,
)

__all__ = [
    "DEFAULT_MIN_QUALITY",
    "DEFAULT_POLICY",
    "Alias",
    "AliasReport",
    "BiometricGallery",
    "Captures",
    "DecisionPolicy",
    "ErrorRates",
    "GalleryError",
    "GalleryFileError",
    "IndexParams",
    "MatchResult",
    "TemplateModel",
    "aliases_for",
    "error_rates",
    "identification_rates",
    "name_key",
    "tail_fmr_from_topk",
    "threshold_for_fmr",
    "usable_template",
]
