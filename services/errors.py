"""Errors the caller should see: a stable code, a message for a person, and an HTTP status."""

from __future__ import annotations

from pydantic import BaseModel


class ErrorBody(BaseModel):
    code: str
    message: str


class AssistantError(RuntimeError):
    STATUS = {
        "empty_question": 422,
        "question_too_long": 422,
        "unknown_user": 404,
        "database_missing": 503,
        "model_unavailable": 503,
        "privacy_refused": 503,
        "documents_unavailable": 503,
        "model_no_sql": 502,
        "sql_rejected": 422,
        "sql_failed": 422,
        "unknown_answer": 404,
    }

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return self.STATUS.get(self.code, 500)

    def body(self) -> ErrorBody:
        return ErrorBody(code=self.code, message=self.message)
