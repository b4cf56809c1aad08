"""The operational schema.

Every table and column carries a comment: the NL->SQL agent shows them to the model and schema
linking searches them, so they are written for a reader who has never seen this database.
Every table that holds a customer's data has a direct `user_id` column; row-level scoping in
`sql_guard` relies on it instead of following foreign-key paths.

One module per domain, all on the `Base` of `base` (its naming convention, the `Money`,
`Quantity` and `Price` types, and `col`, which will not declare a column without a comment).
Every class is re-exported here, so code imports from `services.db.models` and need not know
which module holds a table; importing this package imports every module, so `Base.metadata`
holds the whole schema and each `ForeignKey("table.column")` resolves.
"""

from services.db.models.audit import AuditLog
from services.db.models.base import NAMING, Base, Money, Price, Quantity, col
from services.db.models.documents import Document, DocumentChunk, DocumentVersion
from services.db.models.events import OutboxEvent, ProcessedEvent
from services.db.models.kyc import KycVerification
from services.db.models.market import MarketPrice, PriceAlert, PriceBar, Quote
from services.db.models.notifications import (
    Notification,
    NotificationEventSeen,
    NotificationPreference,
)
from services.db.models.payments import (
    Payment,
    Refund,
    StripeCustomer,
    StripeEvent,
    Subscription,
)
from services.db.models.sql_memory import SqlExample, SqlExampleReview
from services.db.models.trading import (
    Instrument,
    Order,
    Position,
    TradingAccount,
    Transaction,
)
from services.db.models.users import ApiKey, User, UserPassword

__all__ = [
    "NAMING",
    "ApiKey",
    "AuditLog",
    "Base",
    "Document",
    "DocumentChunk",
    "DocumentVersion",
    "Instrument",
    "KycVerification",
    "MarketPrice",
    "Money",
    "Notification",
    "NotificationEventSeen",
    "NotificationPreference",
    "Order",
    "OutboxEvent",
    "Payment",
    "Position",
    "Price",
    "PriceAlert",
    "PriceBar",
    "ProcessedEvent",
    "Quantity",
    "Quote",
    "Refund",
    "SqlExample",
    "SqlExampleReview",
    "StripeCustomer",
    "StripeEvent",
    "Subscription",
    "TradingAccount",
    "Transaction",
    "User",
    "UserPassword",
    "col",
]
