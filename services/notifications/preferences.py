"""Which kinds of notification a user receives on which channel.

A row in `notification_preferences` records a choice; without one the channel's default
applies: in-app and email on, SMS and push off (they cost money and interrupt). Staff messages
are not a preference: they always arrive on the channel staff chose.

>>> DEFAULT_ENABLED[ChannelName.EMAIL], DEFAULT_ENABLED[ChannelName.SMS]
(True, False)
"""

from __future__ import annotations

import logging

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from services import audit, clock
from services.db.models import NotificationPreference, User
from services.errors import AssistantError
from services.identity import Caller, Role
from services.notifications.channels import ChannelName
from services.notifications.events import EVENT_DRIVEN_KINDS, NotificationKind

log = logging.getLogger(__name__)

DEFAULT_ENABLED: dict[ChannelName, bool] = {
    ChannelName.IN_APP: True,
    ChannelName.EMAIL: True,
    ChannelName.SMS: False,
    ChannelName.PUSH: False,
}


class Preference(BaseModel, frozen=True):
    kind: NotificationKind
    channel: ChannelName
    enabled: bool
    is_default: bool  # no choice recorded: the channel's default applies


def check_own(caller: Caller, user_id: int, action: str) -> None:
    """A customer acts on their own notifications only; support and admins on anyone's."""
    if caller.role is Role.CUSTOMER and caller.user_id != user_id:
        log.info("refused: customer %s tried to %s of user %s", caller.user_id, action, user_id)
        raise AssistantError(
            "notification_forbidden", f"a customer can only {action} of their own account"
        )


def require_user(conn: Connection, user_id: int) -> None:
    if conn.execute(select(User.id).where(User.id == user_id)).first() is None:
        log.info("refused: no user %s", user_id)
        raise AssistantError("unknown_user", f"there is no user with id {user_id}")


def _choices(conn: Connection, user_id: int) -> dict[tuple[str, str], bool]:
    rows = conn.execute(
        select(
            NotificationPreference.kind,
            NotificationPreference.channel,
            NotificationPreference.enabled,
        ).where(NotificationPreference.user_id == user_id)
    )
    return {(kind, channel): enabled for kind, channel, enabled in rows}


def enabled_channels(conn: Connection, user_id: int, kind: NotificationKind) -> list[ChannelName]:
    """The channels a notification of `kind` goes to for this user, in a stable order."""
    choices = _choices(conn, user_id)
    return [
        channel
        for channel, default in DEFAULT_ENABLED.items()
        if choices.get((kind.value, channel.value), default)
    ]


def preferences_for(engine: Engine, caller: Caller, user_id: int) -> list[Preference]:
    """Every kind and channel with what applies now, recorded choice or default."""
    check_own(caller, user_id, "read the notification preferences")
    with engine.connect() as conn:
        require_user(conn, user_id)
        choices = _choices(conn, user_id)
    return [
        Preference(
            kind=kind,
            channel=channel,
            enabled=choices.get((kind.value, channel.value), default),
            is_default=(kind.value, channel.value) not in choices,
        )
        for kind in EVENT_DRIVEN_KINDS
        for channel, default in DEFAULT_ENABLED.items()
    ]


def _upsert(conn: Connection):
    """INSERT ... ON CONFLICT for the dialect in use (both spell it the same way)."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert


def set_preference(
    engine: Engine,
    caller: Caller,
    user_id: int,
    kind: NotificationKind,
    channel: ChannelName,
    enabled: bool,
) -> Preference:
    """Record a user's choice for one kind on one channel (a second call overwrites it)."""
    check_own(caller, user_id, "change the notification preferences")
    if kind not in EVENT_DRIVEN_KINDS:
        log.info("refused: %s notifications cannot be switched off", kind.value)
        raise AssistantError(
            "invalid_preference", f"{kind.value} notifications cannot be switched off"
        )
    with engine.begin() as conn:
        require_user(conn, user_id)
        values = {"enabled": enabled, "updated_at": clock.utcnow()}
        statement = _upsert(conn)(NotificationPreference).values(
            user_id=user_id, kind=kind.value, channel=channel.value, **values
        )
        conn.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "kind", "channel"], set_=values
            )
        )
    audit.record(
        engine,
        caller,
        "notifications.preference",
        "ok",
        user_id=user_id,
        kind=kind.value,
        channel=channel.value,
        enabled=enabled,
    )
    return Preference(kind=kind, channel=channel, enabled=enabled, is_default=False)
