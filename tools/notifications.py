"""Notification tools: your preferences (read and set) and, for staff, a message to a customer.

The notification service's own rules apply (a customer reads and sets only their own choices;
staff messages cannot be switched off); these tools are its face in the chat.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from services.identity import Role
from services.ids import RowId
from services.notifications.channels import ChannelName
from services.notifications.events import EVENT_DRIVEN_KINDS, NotificationKind
from services.notifications.preferences import Preference, preferences_for, set_preference
from services.notifications.schemas import NotificationOut
from tools.registry import Preview, ToolContext, ToolInput, ToolKind
from tools.tool_set import TOOLS

EVERYONE = {Role.CUSTOMER, Role.SUPPORT, Role.ADMIN}
STAFF = {Role.SUPPORT, Role.ADMIN}
EVERYONE_SWITCHABLE = frozenset(EVENT_DRIVEN_KINDS)  # staff messages always arrive


class PreferencesInput(ToolInput):
    customer_id: RowId | None = Field(
        None, description="Staff only: the customer whose preferences to show."
    )


class PreferencesOutput(BaseModel):
    preferences: list[Preference] = Field(description="Every kind and channel: on or off.")

    def sentence(self) -> str:
        on = sorted(f"{p.kind.value} by {p.channel.value}" for p in self.preferences if p.enabled)
        return "You are notified of: " + (", ".join(on) or "nothing") + "."


@TOOLS.tool(roles=EVERYONE)
def notification_preferences(ctx: ToolContext, args: PreferencesInput) -> PreferencesOutput:
    """Which notifications you receive on which channel (email, SMS, push, in-app)."""
    subject = args.customer_id or ctx.caller.user_id
    found = preferences_for(ctx.services.engine, ctx.caller, subject)
    return PreferencesOutput(preferences=found)


class SetPreferenceInput(ToolInput):
    kind: NotificationKind = Field(description="What about, e.g. payment_failed, kyc_decided.")
    channel: ChannelName = Field(description="email, sms, push or in_app.")
    enabled: bool = Field(description="True to receive it on that channel, false to stop.")


@TOOLS.tool(roles=EVERYONE, kind=ToolKind.WRITE)
def set_notification_preference(ctx: ToolContext, args: SetPreferenceInput) -> Preference:
    """Switch one kind of notification on or off on one channel, for yourself."""
    return set_preference(
        ctx.services.engine, ctx.caller, ctx.caller.user_id, args.kind, args.channel, args.enabled
    )


@TOOLS.previewer("set_notification_preference")
def preview_preference(ctx: ToolContext, args: SetPreferenceInput) -> Preview:
    problems = []
    if args.kind not in EVERYONE_SWITCHABLE:
        problems.append(f"{args.kind.value} notifications cannot be switched off")
    state = "on" if args.enabled else "off"
    return Preview(
        summary=f"turn {args.kind.value.replace('_', ' ')} notifications by "
        f"{args.channel.value} {state}",
        details=args.model_dump(mode="json"),
        problems=problems,
    )


class SendNotificationInput(ToolInput):
    customer_id: RowId = Field(description="Who receives it (users.id).")
    subject: str = Field(min_length=1, max_length=200, description="One-line subject.")
    body: str = Field(min_length=1, max_length=5000, description="The message.")
    channel: ChannelName = Field(ChannelName.IN_APP, description="email, sms, push or in_app.")


@TOOLS.tool(roles=STAFF, kind=ToolKind.WRITE)
def send_notification(ctx: ToolContext, args: SendNotificationInput) -> NotificationOut:
    """Send a customer a message from support on the channel chosen."""
    service = ctx.services.need("notifications")
    return service.send_notification(
        ctx.caller, args.customer_id, args.subject, args.body, args.channel
    )


@TOOLS.previewer("send_notification")
def preview_send(ctx: ToolContext, args: SendNotificationInput) -> Preview:
    return Preview(
        summary=f'send customer {args.customer_id} "{args.subject}" by {args.channel.value}',
        details={"customer_id": args.customer_id, "channel": args.channel.value},
    )
