"""Docstring examples are tests too."""

import doctest
import importlib
import pkgutil

import pytest

PACKAGES = ["services", "sql_guard", "agents", "graphs"]


def _modules():
    for package in PACKAGES:
        root = importlib.import_module(package)
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{package}."):
            if "migrations" not in info.name:
                yield info.name


@pytest.mark.parametrize("name", sorted(_modules()))
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
