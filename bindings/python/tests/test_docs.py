"""Runs every ``python`` block of docs/python.md, in order, in one namespace."""

from __future__ import annotations

import re
from typing import Any, Dict

import pytest
from conftest import REPO


def test_python_guide_snippets_run() -> None:
    pytest.importorskip("polars")
    text = (REPO / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 4
    namespace: Dict[str, Any] = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"docs/python.md block {i + 1}", "exec"), namespace)
