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


def _docstrings() -> Dict[str, str]:
    """Every docstring of ``stratum._native`` with an example, by qualified name."""
    import inspect

    from stratum import _native

    found: Dict[str, str] = {}
    for name, obj in vars(_native).items():
        members = [(name, obj)]
        if inspect.isclass(obj):
            members += [(f"{name}.{k}", v) for k, v in vars(obj).items()]
        for qual, member in members:
            doc = getattr(member, "__doc__", None)
            if isinstance(doc, str) and ">>>" in doc:
                found[qual] = doc
    return found


@pytest.mark.parametrize("name", sorted(_docstrings()))
def test_native_docstring_examples_run(name: str) -> None:
    import doctest

    doc = _docstrings()[name]
    test = doctest.DocTestParser().get_doctest(doc, {}, name, None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0 and result.failed == 0
