"""Row ids as every boundary takes them.

A database id is a positive integer its column can hold: SQLite's INTEGER and PostgreSQL's
BIGINT stop at 2**63 - 1, and a larger number reaching a query is not "not found" but a driver
error (a 500, found by schemathesis). Request bodies, path, query and header parameters and tool
inputs that name a row use `RowId`, so such a number is refused as invalid input (422) first.

>>> from pydantic import TypeAdapter, ValidationError
>>> TypeAdapter(RowId).validate_python(42)
42
>>> try:
...     TypeAdapter(RowId).validate_python(2**63)
... except ValidationError as exc:
...     print(exc.errors()[0]["type"])
less_than_equal
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Field(ge=1, le=MAX_ROW_ID)]
