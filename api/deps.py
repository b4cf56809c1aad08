"""Dependencies shared by the routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from graphs.assistant import Assistant
from retrieval.library import DocumentLibrary
from services.errors import AssistantError
from services.identity import Caller


def get_assistant(request: Request) -> Assistant:
    return request.app.state.assistant


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


def get_caller(
    assistant: AssistantDep,
    x_user_id: Annotated[
        int | None, Header(description="Local auth: the acting user's id.")
    ] = None,
) -> Caller:
    """Local auth mode (the embedded default, bound to 127.0.0.1): the X-User-Id header names
    the user and their role comes from the database; without it the caller is the operator."""
    return assistant.caller(x_user_id)


CallerDep = Annotated[Caller, Depends(get_caller)]


def get_documents(request: Request) -> DocumentLibrary:
    library = request.app.state.documents
    if library is None:
        raise AssistantError("documents_unavailable", "no document library is set up here")
    return library


DocumentsDep = Annotated[DocumentLibrary, Depends(get_documents)]
