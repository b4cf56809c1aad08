"""The Azure adapters at the SDK seam: no Service Bus or Event Grid can run here, so the SDK's
client objects are replaced by doubles that record each call, and the tests check that the
right messages, properties and settlement calls reach them. The bus semantics themselves are
tested on RabbitMQ (tests/integration/events/test_bus_contract.py)."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from typing import Any

import pytest
from azure.core.credentials import AzureKeyCredential
from azure.core.messaging import CloudEvent as AzureCloudEvent
from azure.servicebus import ServiceBusMessage, ServiceBusSubQueue
from azure.servicebus.aio import ServiceBusClient
from pydantic import SecretStr

from services.errors import AssistantError
from services.events import wire
from services.events.bus import open_bus
from services.events.bus.amqp import AmqpBus
from services.events.bus.base import RetryPolicy
from services.events.bus.eventgrid import EventGridBus
from services.events.bus.eventgrid import client_from_url as eventgrid_client
from services.events.bus.memory import MemoryBus
from services.events.bus.servicebus import ServiceBusBus, client_from_url
from services.events.catalogue import KycDecided, OrderPlaced, new_event
from tests.conftest import make_settings

CONNECTION = (
    "Endpoint=sb://ta-test.servicebus.windows.net/;SharedAccessKeyName=send;"
    "SharedAccessKey=c2VjcmV0;EntityPath=domain-events"
)


def order_placed(n: int = 1):
    return new_event(
        OrderPlaced(
            order_id=n,
            user_id=3,
            account_id=5,
            symbol="AAPL",
            side="buy",
            order_type="limit",
            quantity=2,
            limit_price=180.5,
        ),
        subject=f"orders/{n}",
    )


def kyc_decided():
    return new_event(
        KycDecided(verification_id=4, user_id=3, level="basic", decision="approved"),
        subject="kyc/4",
    )


@dataclass
class Received:
    """What the SDK's ServiceBusReceivedMessage offers the adapter."""

    body: list[bytes]
    delivery_count: int = 0
    message_id: str | None = None
    subject: str | None = None
    dead_letter_error_description: str | None = None


@dataclass
class RecordingSender:
    sent: list[ServiceBusMessage] = field(default_factory=list)
    closed: bool = False
    opened: int = 0

    async def send_messages(self, message: ServiceBusMessage) -> None:
        self.sent.append(message)

    async def close(self) -> None:
        self.closed = True

    async def __aenter__(self) -> RecordingSender:
        self.opened += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


@dataclass
class RecordingReceiver:
    messages: list[Received]
    calls: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)
    exhausted: asyncio.Event = field(default_factory=asyncio.Event)

    def __aiter__(self):
        return self._iterate()

    async def _iterate(self):
        for message in self.messages:
            yield message
        self.exhausted.set()

    async def complete_message(self, message: Received) -> None:
        self.calls.append(("complete", message, {}))

    async def abandon_message(self, message: Received) -> None:
        self.calls.append(("abandon", message, {}))

    async def dead_letter_message(self, message: Received, **kwargs: Any) -> None:
        self.calls.append(("dead_letter", message, kwargs))

    async def peek_messages(self, max_message_count: int) -> list[Received]:
        self.calls.append(("peek", None, {"max_message_count": max_message_count}))
        return self.messages[:max_message_count]

    async def close(self) -> None:
        self.calls.append(("close", None, {}))

    async def __aenter__(self) -> RecordingReceiver:
        return self

    async def __aexit__(self, *exc: object) -> None:
        pass


@dataclass
class RecordingClient:
    """Stands in for azure.servicebus.aio.ServiceBusClient."""

    receivers: list[RecordingReceiver] = field(default_factory=list)
    senders: list[RecordingSender] = field(default_factory=list)
    asked: list[dict[str, Any]] = field(default_factory=list)
    closed: bool = False

    def get_topic_sender(self, topic_name: str) -> RecordingSender:
        self.asked.append({"sender": topic_name})
        self.senders.append(RecordingSender())
        return self.senders[-1]

    def get_subscription_receiver(self, **kwargs: Any) -> RecordingReceiver:
        self.asked.append(kwargs)
        return self.receivers.pop(0)

    async def close(self) -> None:
        self.closed = True


async def test_service_bus_publishes_structured_cloudevents_with_id_and_type():
    client = RecordingClient()
    bus = ServiceBusBus(client, "domain-events")
    first, second = order_placed(1), kyc_decided()
    await bus.publish(first)
    await bus.publish(second)
    await bus.close()

    assert client.asked == [{"sender": "domain-events"}]  # one sender, reused
    sent = client.senders[0].sent
    assert [m.message_id for m in sent] == [first.get_id(), second.get_id()]
    assert [m.subject for m in sent] == [first.get_type(), second.get_type()]
    assert {m.content_type for m in sent} == {"application/cloudevents+json"}
    assert sent[0].application_properties == {"cloudEvents:source": "/trading-assist/trading"}
    back = wire.decode(b"".join(sent[0].body))
    assert (back.get_id(), back.get_subject(), back.get_data()) == (
        first.get_id(),
        "orders/1",
        first.get_data(),
    )
    assert client.senders[0].closed and client.closed


async def test_service_bus_settles_each_message_as_the_handler_fared():
    good, other, flaky, hopeless = order_placed(1), kyc_decided(), order_placed(2), order_placed(3)
    messages = [
        Received([wire.encode(good)]),
        Received([wire.encode(other)]),  # outside the pattern: completed unhandled
        Received([wire.encode(flaky)], delivery_count=0),
        Received([wire.encode(hopeless)[:20], wire.encode(hopeless)[20:]], delivery_count=2),
        Received([b"not a cloud event"], message_id="junk"),
    ]
    receiver = RecordingReceiver(messages)
    client = RecordingClient(receivers=[receiver])
    handled: list[str] = []

    async def handler(event) -> None:
        handled.append(event.get_id())
        if event.get_id() != good.get_id():
            raise RuntimeError("downstream unavailable")

    bus = ServiceBusBus(client, "domain-events", retry=RetryPolicy(max_attempts=3))
    await bus.subscribe("com.tradingassist.order.#", handler, consumer="notifications")
    await asyncio.wait_for(receiver.exhausted.wait(), 5)
    await bus.close()

    assert client.asked == [{"topic_name": "domain-events", "subscription_name": "notifications"}]
    assert handled == [good.get_id(), flaky.get_id(), hopeless.get_id()]
    settled = [(name, messages.index(m) if m else None, kw) for name, m, kw in receiver.calls]
    unreadable = settled[4][2]["error_description"]
    assert settled == [
        ("complete", 0, {}),
        ("complete", 1, {}),
        ("abandon", 2, {}),  # attempt 1 of 3: Service Bus delivers it again
        (
            "dead_letter",
            3,
            {"reason": "max_attempts", "error_description": "RuntimeError: downstream unavailable"},
        ),
        ("dead_letter", 4, {"reason": "unreadable", "error_description": unreadable}),
        ("close", None, {}),
    ]
    assert unreadable.startswith("not a CloudEvent")


async def test_service_bus_dead_letters_are_peeked_from_the_sub_queue():
    letter = Received(
        [b"{}"],
        delivery_count=3,
        message_id="e-1",
        subject="com.tradingassist.order.placed.v1",
        dead_letter_error_description="RuntimeError: downstream unavailable",
    )
    receiver = RecordingReceiver([letter])
    client = RecordingClient(receivers=[receiver])
    letters = await ServiceBusBus(client, "domain-events").dead_letters("notifications", limit=10)

    assert client.asked == [
        {
            "topic_name": "domain-events",
            "subscription_name": "notifications",
            "sub_queue": ServiceBusSubQueue.DEAD_LETTER,
        }
    ]
    assert receiver.calls == [("peek", None, {"max_message_count": 10})]
    assert [(d.event_id, d.event_type, d.attempts, d.error) for d in letters] == [
        ("e-1", "com.tradingassist.order.placed.v1", 3, "RuntimeError: downstream unavailable")
    ]


async def test_service_bus_ping_opens_a_sender_link():
    client = RecordingClient()
    assert await ServiceBusBus(client, "domain-events").ping() == "answers"
    assert client.senders[0].opened == 1 and client.senders[0].closed


def test_service_bus_urls():
    client, topic = client_from_url(CONNECTION)
    assert isinstance(client, ServiceBusClient) and topic == "domain-events"
    assert client.fully_qualified_namespace == "ta-test.servicebus.windows.net"
    with pytest.raises(AssistantError) as no_topic:
        client_from_url(CONNECTION.rsplit(";", 1)[0])
    assert no_topic.value.code == "bus_unsupported"
    with pytest.raises(AssistantError) as no_topic_path:
        client_from_url("servicebus://ta-test.servicebus.windows.net/")
    assert "TOPIC" in no_topic_path.value.message


def test_managed_identity_without_azure_identity_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "azure.identity.aio", None)  # as if not installed
    with pytest.raises(AssistantError) as missing:
        client_from_url("servicebus://ta-test.servicebus.windows.net/domain-events")
    assert missing.value.code == "bus_unsupported" and "azure-identity" in missing.value.message


@dataclass
class RecordingPublisher:
    """Stands in for azure.eventgrid.aio.EventGridPublisherClient."""

    sent: list[Any] = field(default_factory=list)
    closed: bool = False

    async def send(self, events: Any) -> None:
        self.sent.append(events)

    async def close(self) -> None:
        self.closed = True


async def test_event_grid_sends_each_event_in_the_cloudevents_schema():
    publisher = RecordingPublisher()
    bus = EventGridBus(publisher, "eventgrid://t.westeurope-1.eventgrid.azure.net/api/events")
    event = order_placed(5)
    await bus.publish(event)
    with pytest.raises(AssistantError) as cannot:
        await bus.subscribe("#", lambda e: None, consumer="x")
    await bus.close()

    [sent] = publisher.sent
    assert isinstance(sent, AzureCloudEvent)
    assert (sent.id, sent.type, sent.source, sent.subject) == (
        event.get_id(),
        "com.tradingassist.order.placed.v1",
        "/trading-assist/trading",
        "orders/5",
    )
    assert sent.data == event.get_data() and sent.time == event.get_time()
    assert sent.datacontenttype == "application/json"
    assert cannot.value.code == "bus_cannot_subscribe" and publisher.closed


def test_event_grid_urls_choose_topic_or_namespace_topic():
    key = SecretStr("a2V5")
    basic = eventgrid_client("eventgrid://t.westeurope-1.eventgrid.azure.net/api/events", key)
    namespace = eventgrid_client(
        "eventgrid://ns.westeurope-1.eventgrid.azure.net/?topic=domain", key
    )
    assert "namespace_topic=None" in repr(basic)
    assert "namespace_topic=domain" in repr(namespace)
    assert AzureKeyCredential.__name__ in repr(basic)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("memory://", MemoryBus),
        ("amqp://guest:guest@127.0.0.1:5672/", AmqpBus),
        (CONNECTION, ServiceBusBus),
    ],
)
def test_the_bus_url_picks_the_adapter_with_the_consumer_retry_policy(url, expected, tmp_path):
    settings = make_settings(
        tmp_path, message_bus_url=url, eventgrid_access_key="a2V5", events_consumer_attempts=7
    )
    bus = open_bus(settings)
    assert isinstance(bus, expected)
    assert "guest" not in bus.description and "SharedAccessKey" not in bus.description
    assert bus.retry.max_attempts == 7


def test_an_event_grid_url_picks_the_publish_only_adapter(tmp_path):
    url = "eventgrid://t.westeurope-1.eventgrid.azure.net/api/events"
    bus = open_bus(make_settings(tmp_path, message_bus_url=url, eventgrid_access_key="a2V5"))
    assert isinstance(bus, EventGridBus) and "publish only" in bus.description


def test_an_unknown_bus_url_is_refused(tmp_path):
    with pytest.raises(AssistantError) as refused:
        open_bus(make_settings(tmp_path, message_bus_url="kafka://127.0.0.1:9092"))
    assert refused.value.code == "bus_unsupported" and "kafka" in refused.value.message
