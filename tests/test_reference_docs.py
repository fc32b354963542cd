"""Generated reference docs must match the code (run `python -m securecomm.reference_docs`)."""

from pathlib import Path

import pytest

from securecomm.reference_docs import DOCS

DOCS_DIR = Path(__file__).resolve().parents[1] / "docs"


@pytest.mark.parametrize("name", sorted(DOCS))
def test_generated_doc_is_current(name):
    assert (DOCS_DIR / name).read_text(encoding="utf-8") == DOCS[name](), (
        f"docs/{name} is stale: run `python -m securecomm.reference_docs`"
    )
