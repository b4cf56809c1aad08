"""Fields read from an identity document's text, and checked against the customer's profile.

The text comes from the platform's ingestion (OCR for scans); the fields are the labelled ones
every passport, ID card and driving licence prints: "Surname", "Given names", "Date of birth",
"Document No", "Date of expiry".

>>> text = "PASSPORT\\nSurname: DOE\\nGiven names: JANE ANN\\nDate of birth: 14 MAR 1990\\n"
>>> text += "Document No: X1234567\\nDate of expiry: 2031-05-01"
>>> fields = extract_fields(text)
>>> fields.full_name, fields.date_of_birth, fields.document_number, fields.expires_on
('Jane Ann Doe', datetime.date(1990, 3, 14), 'X1234567', datetime.date(2031, 5, 1))
>>> mismatches(fields, "Jane Doe", date(1990, 3, 14), today=date(2026, 1, 1))
['name: the document says Jane Ann Doe, the profile says Jane Doe']
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime

from pydantic import BaseModel, Field

LABELS = {
    "surname": r"surname|last name|family name|nom",
    "given": r"given names?|first names?|forenames?|pr[ée]noms?",
    "name": r"full name|name",
    "dob": r"date of birth|birth date|d\.?o\.?b\.?",
    "number": r"document (?:no\.?|number)|passport (?:no\.?|number)|licen[cs]e (?:no\.?|number)|id (?:no\.?|number)",  # noqa: E501
    "expiry": r"date of expiry|expiry date|expires(?: on)?|valid until",
}
DATE_FORMATS = ("%Y-%m-%d", "%d %b %Y", "%d %B %Y", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y")


class DocumentFields(BaseModel):
    full_name: str | None = Field(None, description="Name as printed: given names, surname.")
    date_of_birth: date | None = Field(None, description="Date of birth as printed.")
    document_number: str | None = Field(None, description="Document number.")
    expires_on: date | None = Field(None, description="Expiry date of the document.")


def _field(text: str, label: str) -> str | None:
    pattern = rf"^[ \t*_-]*(?:{LABELS[label]})[ \t*_]*[:：][ \t]*(.+?)[ \t*_]*$"
    found = re.search(pattern, text, flags=re.IGNORECASE | re.MULTILINE)
    return found.group(1).strip() if found else None


def parse_date(value: str | None) -> date | None:
    if not value:
        return None
    cleaned = re.sub(r"\s+", " ", value.strip()).title()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
    return None


def extract_fields(text: str) -> DocumentFields:
    surname, given = _field(text, "surname"), _field(text, "given")
    name = f"{given} {surname}" if surname and given else _field(text, "name")
    return DocumentFields(
        full_name=name.title() if name else None,
        date_of_birth=parse_date(_field(text, "dob")),
        document_number=_field(text, "number"),
        expires_on=parse_date(_field(text, "expiry")),
    )


def _plain(name: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z]+", folded)


def mismatches(
    fields: DocumentFields, full_name: str, date_of_birth: date | None, today: date
) -> list[str]:
    """What does not match, each named; empty when the document fits the profile."""
    problems = []
    if fields.full_name is None:
        problems.append("name: no name found on the document")
    elif _plain(fields.full_name) != _plain(full_name):
        problems.append(f"name: the document says {fields.full_name}, the profile says {full_name}")
    if fields.date_of_birth is None:
        problems.append("date of birth: none found on the document")
    elif date_of_birth is not None and fields.date_of_birth != date_of_birth:
        problems.append(
            f"date of birth: the document says {fields.date_of_birth}, the profile says "
            f"{date_of_birth}"
        )
    if fields.document_number is None:
        problems.append("document number: none found on the document")
    if fields.expires_on is not None and fields.expires_on <= today:
        problems.append(f"expiry: the document expired on {fields.expires_on}")
    return problems
