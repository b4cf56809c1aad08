"""Notifications over HTTP: a user's own messages and preferences, and staff messages. Thin:
the rules (who may see, send, change what) live in `services.notifications`. The endpoints are
plain functions, so FastAPI runs their database and SMTP work in its thread pool."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from api.deps import ChatCaller, NotificationsDep, ToolWriter
from services.errors import AssistantError
from services.identity import Caller
from services.ids import RowId
from services.notifications.channels import ChannelName
from services.notifications.events import NotificationKind
from services.notifications.preferences import Preference, preferences_for, set_preference
from services.notifications.schemas import NotificationOut, StaffMessage

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


class PreferenceChange(BaseModel):
    user_id: RowId | None = Field(None, description="Whose; default: the caller's own.")
    kind: NotificationKind
    channel: ChannelName
    enabled: bool


def _whose(caller: Caller, user_id: int | None) -> int:
    if user_id is not None:
        return user_id
    if caller.user_id is None:
        raise AssistantError("invalid_preference", "the operator must name the user (user_id)")
    return caller.user_id


@router.get("", response_model=list[NotificationOut], summary="Notifications, newest first")
def list_notifications(
    caller: ChatCaller,
    service: NotificationsDep,
    user_id: Annotated[RowId | None, Query(description="Staff: whose (default: all).")] = None,
    unread_only: Annotated[bool, Query(description="Only unread in-app messages.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[NotificationOut]:
    """A customer gets their own; support and admins anyone's."""
    return service.list(caller, user_id=user_id, unread_only=unread_only, limit=limit)


@router.post(
    "",
    response_model=NotificationOut,
    status_code=201,
    summary="Send a message to one user (support and admins)",
)
def send(message: StaffMessage, caller: ToolWriter, service: NotificationsDep) -> NotificationOut:
    """In-app messages are delivered at once; email, SMS and push with the next delivery pass."""
    return service.send_notification(
        caller, message.user_id, message.subject, message.body, message.channel
    )


@router.post(
    "/{notification_id}/read", response_model=NotificationOut, summary="Mark an in-app read"
)
def mark_read(
    notification_id: RowId, caller: ChatCaller, service: NotificationsDep
) -> NotificationOut:
    return service.mark_read(caller, notification_id)


@router.get(
    "/preferences", response_model=list[Preference], summary="Which kinds go to which channels"
)
def get_preferences(
    caller: ChatCaller,
    service: NotificationsDep,
    user_id: Annotated[RowId | None, Query(description="Default: the caller's own.")] = None,
) -> list[Preference]:
    return preferences_for(service.engine, caller, _whose(caller, user_id))


@router.put("/preferences", response_model=Preference, summary="Switch one kind on one channel")
def put_preference(
    change: PreferenceChange, caller: ChatCaller, service: NotificationsDep
) -> Preference:
    return set_preference(
        service.engine,
        caller,
        _whose(caller, change.user_id),
        change.kind,
        change.channel,
        change.enabled,
    )
