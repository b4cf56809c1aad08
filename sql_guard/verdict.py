"""What the guard decided, as data the caller can show, log and test."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Reason(BaseModel, frozen=True):
    code: str = Field(description="Stable machine code, e.g. write_statement, denied_function.")
    message: str = Field(description="What was wrong, for a person.")


class Verdict(BaseModel):
    allowed: bool
    reasons: list[Reason] = Field(default_factory=list)
    sql: str | None = Field(None, description="The rewritten SQL to run, when allowed.")
    tables: list[str] = Field(default_factory=list, description="Catalog tables referenced.")

    def explain(self) -> str:
        return "; ".join(r.message for r in self.reasons) or "allowed"
