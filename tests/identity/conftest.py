from __future__ import annotations

import numpy as np
import pytest

from securecomm.identity.gallery import BiometricGallery, IndexParams
from securecomm.identity.templates import TemplateModel

GALLERY_SIZE = 20_000


@pytest.fixture(scope="session")
def model() -> TemplateModel:
    return TemplateModel(seed=7)


@pytest.fixture(scope="session")
def enrolment(model):
    caps = model.captures(np.arange(GALLERY_SIZE, dtype=np.int64), session=0)
    return caps.ids, caps.vectors


@pytest.fixture(scope="session")
def ivf_params() -> IndexParams:
    return IndexParams(kind="ivf_flat", nlist=64, nprobe=64, train_size=5_000)


@pytest.fixture(scope="session")
def gallery(enrolment, ivf_params) -> BiometricGallery:
    ids, vecs = enrolment
    g = BiometricGallery(64, ivf_params)
    g.rebuild([(ids[i : i + 4096], vecs[i : i + 4096]) for i in range(0, len(ids), 4096)])
    return g
