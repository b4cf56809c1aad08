"""The product's own words in the chat UI's pages (the sign-in's title, its refusals), laid
over Chainlit's translations.

Chainlit's pages take their text from `.chainlit/translations/<language>.json` in the app root,
files Chainlit writes from its own defaults when they are missing; its sign-in page shows a
refused sign-in as the translation `auth.login.errors.<the response's status text, lower-cased>`
(a 429 is `too many requests`), falling back to "Unable to sign in". `translations.yaml`
beside this file (copy, not code: an operator edits it) says what to change; the server lays
it over the files each time it starts.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import yaml
from pydantic import RootModel

log = logging.getLogger(__name__)

TRANSLATIONS_FILE = Path(__file__).with_name("translations.yaml")
EVERY = "*"


class Overlay(RootModel[dict[str, dict[str, str]]]):
    """Language (or `*` for every one) -> dotted key -> text."""

    def for_language(self, language: str) -> dict[str, str]:
        """
        >>> o = Overlay({"*": {"a.b": "all", "a.c": "all"}, "de-DE": {"a.c": "de"}})
        >>> o.for_language("de-DE"), o.for_language("it")
        ({'a.b': 'all', 'a.c': 'de'}, {'a.b': 'all', 'a.c': 'all'})
        """
        return {**self.root.get(EVERY, {}), **self.root.get(language, {})}


def load_overlay(path: Path = TRANSLATIONS_FILE) -> Overlay:
    return Overlay.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def laid_over(translation: dict, texts: dict[str, str]) -> dict:
    """`translation` with each dotted key set to its text.

    >>> laid_over({"auth": {"login": {"title": "Login"}}}, {"auth.login.title": "Sign in"})
    {'auth': {'login': {'title': 'Sign in'}}}
    >>> laid_over({}, {"auth.login.errors.x": "No"})
    {'auth': {'login': {'errors': {'x': 'No'}}}}
    """
    merged = json.loads(json.dumps(translation))
    for key, text in texts.items():
        *parents, leaf = key.split(".")
        node = merged
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = text
    return merged


def apply_overlay(directory: Path, overlay: Overlay | None = None) -> int:
    """Lay the overlay over every language file in `directory`; how many files changed."""
    overlay = overlay or load_overlay()
    changed = 0
    for path in sorted(directory.glob("*.json")):
        translation = json.loads(path.read_text(encoding="utf-8"))
        merged = laid_over(translation, overlay.for_language(path.stem))
        if merged != translation:
            path.write_text(json.dumps(merged, indent=4, ensure_ascii=False), encoding="utf-8")
            changed += 1
    if changed:
        log.info("the product's words laid over %d chat UI translations", changed)
    return changed
