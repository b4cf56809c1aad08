"""Rendering a notification from its kind's templates.

Each kind has a folder under `templates/` with `subject.txt`, `body.txt` and `body.html`; they
see the event's data fields as the event catalogue types them (amounts are numbers, shown with
`|money`; dates ISO strings) and `recipient.full_name`.
Only the HTML is autoescaped (a symbol or a name holding `<script>` shows as text in the
email); the text parts go out as plain text. Every field a template reads must be given
(`StrictUndefined`): a missing one is an error naming the template and the field, never an
empty gap in a customer's message.

>>> renderer = TemplateRenderer()
>>> message = renderer.render(
...     NotificationKind.ORDER_FILLED,
...     {"recipient": {"full_name": "Ann <b>"}, "order_id": 7, "side": "buy",
...      "quantity": 2, "symbol": "AAPL", "avg_fill_price": 190.5},
... )
>>> message.subject
'Order 7 filled: buy 2 AAPL'
>>> "Ann &lt;b&gt;" in message.html and "Hello Ann <b>," in message.text
True
"""

from __future__ import annotations

import logging
from typing import Any, NoReturn

from jinja2 import (
    Environment,
    PackageLoader,
    StrictUndefined,
    TemplateError,
    TemplateRuntimeError,
    Undefined,
    UndefinedError,
    select_autoescape,
)
from pydantic import BaseModel

from services.errors import AssistantError
from services.notifications.events import NotificationKind

log = logging.getLogger(__name__)

SUBJECT_MAX_CHARS = 200  # notifications.subject is String(200)


class RenderedMessage(BaseModel, frozen=True):
    subject: str
    text: str
    html: str


def _refuse(reason: str) -> NoReturn:
    """`{{ refuse("...") }}` in a template: a value it cannot word is an error, not a guess."""
    raise TemplateRuntimeError(reason)


def _money(value: Any) -> str:
    """`{{ amount|money }}`: an event's amount (a number) with two decimals and thousands
    separators; anything else is an error, not a guess.

    >>> _money(1234.5), _money(29)
    ('1,234.50', '29.00')
    """
    if isinstance(value, Undefined):
        str(value)  # strictly undefined: raises the error that names the missing field
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TemplateRuntimeError(f"an amount must be a number, not {value!r}")
    return f"{value:,.2f}"


class TemplateRenderer:
    """The packaged templates, loaded once and rendered per notification."""

    def __init__(self) -> None:
        self._env = Environment(
            loader=PackageLoader("services.notifications", "templates"),
            undefined=StrictUndefined,
            autoescape=select_autoescape(["html"], default_for_string=False),
            keep_trailing_newline=False,
        )
        self._env.globals["refuse"] = _refuse
        self._env.filters["money"] = _money

    def render(self, kind: NotificationKind, context: dict[str, Any]) -> RenderedMessage:
        """Subject, text and HTML of one message; `AssistantError("template_failed")` when a
        template cannot be rendered from `context`."""
        parts = {}
        for part in ("subject.txt", "body.txt", "body.html"):
            name = f"{kind.value}/{part}"
            try:
                parts[part] = self._env.get_template(name).render(context)
            except UndefinedError as exc:
                log.warning("notification template %s is missing a field: %s", name, exc.message)
                raise AssistantError(
                    "template_failed", f"notification template {name} cannot render: {exc.message}"
                ) from None
            except TemplateError as exc:
                log.error("notification template %s failed: %s", name, exc)
                raise AssistantError(
                    "template_failed", f"notification template {name} failed: {exc}"
                ) from None
        # a subject is one header line: no line breaks, within the column's width
        subject = " ".join(parts["subject.txt"].split())[:SUBJECT_MAX_CHARS]
        return RenderedMessage(
            subject=subject, text=parts["body.txt"].strip() + "\n", html=parts["body.html"]
        )
