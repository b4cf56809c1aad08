"""The product's words laid over Chainlit's own translation files: every language gets the
shared lines, a language's own lines beat them, the rest of the file is kept, and laying the
same words twice changes nothing."""

from __future__ import annotations

import doctest
import importlib.util
import json
import shutil
from pathlib import Path

import ui.translations
from ui.translations import apply_overlay, load_overlay

# found without importing chainlit, which writes a .chainlit folder where it is imported
CHAINLIT = importlib.util.find_spec("chainlit").submodule_search_locations[0]
CHAINLIT_TRANSLATIONS = Path(CHAINLIT) / "translations"


def test_docstring_examples():
    assert doctest.testmod(ui.translations).failed == 0


def test_the_packaged_words_laid_over_chainlits_files(tmp_path):
    for language in ("en-US", "de-DE", "ja"):
        shutil.copy(CHAINLIT_TRANSLATIONS / f"{language}.json", tmp_path)
    original = json.loads((tmp_path / "ja.json").read_text(encoding="utf-8"))

    assert apply_overlay(tmp_path) == 3
    assert apply_overlay(tmp_path) == 0  # already laid

    login = {
        p.stem: json.loads(p.read_text(encoding="utf-8"))["auth"]["login"]
        for p in tmp_path.glob("*.json")
    }
    assert login["en-US"]["title"] == "Sign in to Trading AI Assist"
    assert login["ja"]["title"] == "Sign in to Trading AI Assist"
    assert login["de-DE"]["title"] == "Bei Trading AI Assist anmelden"
    assert login["en-US"]["errors"]["too many requests"].startswith("Too many failed sign-ins")
    # the rest of Chainlit's words stay as they were
    assert login["ja"]["form"] == original["auth"]["login"]["form"]
    assert set(load_overlay().root) <= {"*"} | {p.stem for p in CHAINLIT_TRANSLATIONS.iterdir()}
