"""Docstring examples of the retrieval and RAG-eval modules are tests too (`tests/test_docs.py`
covers services, sql_guard, agents and graphs)."""

import doctest
import importlib

import pytest

MODULES = [
    "retrieval.terms",
    "retrieval.fusion",
    "retrieval.vector_store",
    "retrieval.vector_cache",
    "retrieval.index",
    "evals.doc_chunks",
    "evals.rag_golden",
    "evals.rag_eval",
    "evals.convert_tatqa",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
