"""Azure Event Grid (`eventgrid://TOPIC-HOST/api/events` for a topic, or
`eventgrid://NAMESPACE-HOST/?topic=NAME` for a namespace topic), publishing only.

Events are sent in Event Grid's CloudEvents 1.0 schema with their own id, type, source,
subject and time. Event Grid pushes to its subscribers (webhooks, Service Bus, queues) and
retries and dead-letters there, so this bus cannot subscribe: consumers read from where an
Event Grid subscription delivers, e.g. a Service Bus topic (`servicebus://`).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from azure.core.credentials import AzureKeyCredential
from azure.core.messaging import CloudEvent as AzureCloudEvent
from azure.eventgrid.aio import EventGridPublisherClient
from cloudevents.core.v1.event import CloudEvent
from pydantic import SecretStr

from services.errors import AssistantError
from services.events.bus.base import DeadLetter, Handler


def client_from_url(url: str, access_key: SecretStr | None) -> EventGridPublisherClient:
    parts = urlsplit(url)
    if not parts.hostname:
        raise AssistantError("bus_unsupported", "MESSAGE_BUS_URL must be eventgrid://HOST/...")
    namespace_topic = parse_qs(parts.query).get("topic", [None])[0]
    endpoint = f"https://{parts.hostname}{'' if namespace_topic else parts.path}"
    if access_key is not None:
        credential = AzureKeyCredential(access_key.get_secret_value())
    else:
        try:
            from azure.identity.aio import DefaultAzureCredential
        except ImportError:
            raise AssistantError(
                "bus_unsupported",
                "Event Grid needs EVENTGRID_ACCESS_KEY or azure-identity installed",
            ) from None
        credential = DefaultAzureCredential()
    return EventGridPublisherClient(endpoint, credential, namespace_topic=namespace_topic)


class EventGridBus:
    def __init__(self, client: EventGridPublisherClient, endpoint: str) -> None:
        self.client = client
        self.description = f"Azure Event Grid {endpoint} (publish only)"

    async def publish(self, event: CloudEvent) -> None:
        await self.client.send(
            AzureCloudEvent(
                source=event.get_source(),
                type=event.get_type(),
                data=event.get_data(),
                subject=event.get_subject(),
                id=event.get_id(),
                time=event.get_time(),
                datacontenttype=event.get_datacontenttype(),
            )
        )

    async def subscribe(self, pattern: str, handler: Handler, *, consumer: str) -> None:
        raise AssistantError(
            "bus_cannot_subscribe",
            "Event Grid pushes to its subscriptions; consume from where one delivers "
            "(e.g. a Service Bus topic)",
        )

    async def dead_letters(self, consumer: str, limit: int = 100) -> list[DeadLetter]:
        raise AssistantError(
            "bus_cannot_subscribe",
            "Event Grid dead-letters to the storage container its subscription names",
        )

    async def ping(self) -> str:
        """Event Grid has no call that reads without publishing: configured is all we know."""
        return "not probed (Event Grid has no read-only call)"

    async def close(self) -> None:
        await self.client.close()
