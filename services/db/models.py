"""The operational schema.

Every table and column carries a comment: the NL->SQL agent shows them to the model and schema
linking searches them, so they are written for a reader who has never seen this database.
Every table that holds a customer's data has a direct `user_id` column; row-level scoping in
`sql_guard` relies on it instead of following foreign-key paths.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Money = Numeric(18, 2, asdecimal=False)
Quantity = Numeric(24, 8, asdecimal=False)
Price = Numeric(24, 8, asdecimal=False)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def col(*args, comment: str, **kwargs):
    """`mapped_column` that refuses to exist without a comment."""
    return mapped_column(*args, comment=comment, **kwargs)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # an index, not a constraint: SQLite adds it without rebuilding the referenced table
        Index("uq_users_external_id", "external_id", unique=True),
        {"comment": "People with a login: customers, support staff and admins."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="User id.")
    email: Mapped[str] = col(
        String(255), unique=True, comment="Login email address (personal data)."
    )
    full_name: Mapped[str] = col(String(200), comment="Legal full name (personal data).")
    phone: Mapped[str | None] = col(String(40), comment="Phone number (personal data).")
    date_of_birth: Mapped[date | None] = col(Date, comment="Date of birth (personal data).")
    country: Mapped[str] = col(String(2), comment="Country of residence, ISO 3166 alpha-2 code.")
    role: Mapped[str] = col(String(20), comment="Platform role: customer, support or admin.")
    tier: Mapped[str] = col(String(20), comment="Customer tier: standard, silver, gold or vip.")
    status: Mapped[str] = col(String(20), comment="Login status: active, locked or closed.")
    created_at: Mapped[datetime] = col(DateTime, comment="When the user signed up (UTC).")
    external_id: Mapped[str | None] = col(
        String(64),
        comment="Object id (oid) in the company's Microsoft Entra ID directory; empty for "
        "users who never signed in with it.",
    )


class TradingAccount(Base):
    __tablename__ = "trading_accounts"
    __table_args__ = {"comment": "Brokerage and crypto accounts; a user may hold several."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Account id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Owner (users.id).")
    account_number: Mapped[str] = col(String(20), unique=True, comment="Public account number.")
    account_type: Mapped[str] = col(String(20), comment="Kind of account: cash, margin or crypto.")
    base_currency: Mapped[str] = col(
        String(3), comment="Currency the account is kept in, e.g. USD."
    )
    status: Mapped[str] = col(String(20), comment="Account status: active, suspended or closed.")
    cash_balance: Mapped[float] = col(Money, comment="Uninvested cash, in the base currency.")
    opened_at: Mapped[datetime] = col(DateTime, comment="When the account was opened (UTC).")


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_user_status", "user_id", "status"),
        Index("ix_orders_user_idempotency", "user_id", "idempotency_key", unique=True),
        {"comment": "Buy and sell orders placed by customers, whatever their state."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Order id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), comment="Customer who placed it (users.id).")
    account_id: Mapped[int] = col(
        ForeignKey("trading_accounts.id"), index=True, comment="Account (trading_accounts.id)."
    )
    symbol: Mapped[str] = col(String(20), comment="Instrument ticker, e.g. AAPL, SPY or BTCUSD.")
    side: Mapped[str] = col(String(4), comment="buy or sell.")
    order_type: Mapped[str] = col(String(10), comment="market, limit or stop.")
    quantity: Mapped[float] = col(Quantity, comment="Quantity ordered, in units of the instrument.")
    limit_price: Mapped[float | None] = col(Price, comment="Limit or stop price; empty for market.")
    status: Mapped[str] = col(
        String(20),
        comment="open (working, nothing filled), partially_filled (working, some filled), "
        "filled, cancelled or rejected.",
    )
    filled_quantity: Mapped[float] = col(Quantity, comment="Quantity filled so far.")
    avg_fill_price: Mapped[float | None] = col(Price, comment="Average price of the fills.")
    created_at: Mapped[datetime] = col(DateTime, comment="When the order was placed (UTC).")
    updated_at: Mapped[datetime] = col(DateTime, comment="Last change of status or fills (UTC).")
    notional: Mapped[float | None] = col(
        Money, comment="Cash amount asked for when the order was given in money, not units."
    )
    fees: Mapped[float | None] = col(Money, comment="Commission charged on the fills so far.")
    idempotency_key: Mapped[str | None] = col(
        String(100),
        comment="Caller's key that makes placing the same order twice place it once "
        "(unique per user).",
    )


class Transaction(Base):
    __tablename__ = "transactions"
    __table_args__ = (
        Index("ix_transactions_user_time", "user_id", "executed_at"),
        {"comment": "Ledger of cash and asset movements: trade fills, deposits, fees, dividends."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Transaction id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), comment="Customer (users.id).")
    account_id: Mapped[int] = col(
        ForeignKey("trading_accounts.id"), index=True, comment="Account (trading_accounts.id)."
    )
    order_id: Mapped[int | None] = col(
        ForeignKey("orders.id"), index=True, comment="Order that produced a fill (orders.id)."
    )
    type: Mapped[str] = col(String(20), comment="buy, sell, deposit, withdrawal, fee or dividend.")
    symbol: Mapped[str | None] = col(String(20), comment="Instrument for buy, sell and dividend.")
    quantity: Mapped[float | None] = col(Quantity, comment="Units bought or sold.")
    price: Mapped[float | None] = col(Price, comment="Execution price per unit.")
    amount: Mapped[float] = col(
        Money, comment="Cash effect on the account: positive in, negative out (fees negative)."
    )
    currency: Mapped[str] = col(String(3), comment="Currency of amount.")
    executed_at: Mapped[datetime] = col(DateTime, comment="When it happened (UTC).")


class Position(Base):
    __tablename__ = "positions"
    __table_args__ = {"comment": "Current holdings per account and instrument, from the fills."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Position id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Customer (users.id).")
    account_id: Mapped[int] = col(
        ForeignKey("trading_accounts.id"), comment="Account (trading_accounts.id)."
    )
    symbol: Mapped[str] = col(String(20), comment="Instrument ticker.")
    quantity: Mapped[float] = col(Quantity, comment="Units held now.")
    avg_cost: Mapped[float] = col(Price, comment="Average cost per unit of the units held.")
    updated_at: Mapped[datetime] = col(DateTime, comment="Time of the last fill (UTC).")


class MarketPrice(Base):
    __tablename__ = "market_prices"
    __table_args__ = (
        Index("ix_market_prices_symbol_date", "symbol", "price_date", unique=True),
        {"comment": "Daily price bars per instrument (public market data)."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Row id.")
    symbol: Mapped[str] = col(String(20), comment="Instrument ticker.")
    price_date: Mapped[date] = col(Date, comment="Trading day.")
    open: Mapped[float] = col(Price, comment="Opening price.")
    high: Mapped[float] = col(Price, comment="Highest price of the day.")
    low: Mapped[float] = col(Price, comment="Lowest price of the day.")
    close: Mapped[float] = col(Price, comment="Closing price.")
    volume: Mapped[float] = col(Quantity, comment="Units traded that day.")


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = {"comment": "Card, bank and crypto payments in and out of accounts."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Payment id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Customer (users.id).")
    account_id: Mapped[int | None] = col(
        ForeignKey("trading_accounts.id"), comment="Account credited or debited."
    )
    direction: Mapped[str] = col(String(12), comment="deposit (money in) or withdrawal (out).")
    method: Mapped[str] = col(String(20), comment="card, bank_transfer or crypto.")
    amount: Mapped[float] = col(Money, comment="Amount, always positive.")
    currency: Mapped[str] = col(String(3), comment="Currency of amount.")
    status: Mapped[str] = col(
        String(20),
        comment="Deposits: pending, requires_action (the customer must authenticate, e.g. "
        "3-D Secure), succeeded, failed, partially_refunded or refunded. Withdrawals: "
        "pending_approval, approved, paid or rejected.",
    )
    provider_reference: Mapped[str | None] = col(
        String(64), comment="Payment provider's id, e.g. a Stripe payment intent."
    )
    card_last4: Mapped[str | None] = col(
        String(4), comment="Last four digits of the card (payment data)."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When the payment was created (UTC).")
    # -- payments: columns added by revision 0009 --
    refunded_amount: Mapped[float] = col(
        Money, default=0, server_default="0", comment="Amount refunded so far (0 if none)."
    )
    failure_reason: Mapped[str | None] = col(
        String(200), comment="Why the payment failed or a withdrawal was rejected."
    )
    next_action_url: Mapped[str | None] = col(
        String(500), comment="Where the customer authenticates a requires_action payment."
    )
    reviewed_by: Mapped[int | None] = col(
        Integer, comment="Staff user who approved or rejected a withdrawal (users.id)."
    )
    updated_at: Mapped[datetime | None] = col(
        DateTime, comment="Last change of status (UTC); empty for rows never changed."
    )
    idempotency_key: Mapped[str | None] = col(
        String(100),
        unique=True,
        comment="Key of the confirmed request that created it; a retry finds it instead of "
        "paying twice.",
    )


class Subscription(Base):
    __tablename__ = "subscriptions"
    __table_args__ = {"comment": "Paid plans (market data and analytics tiers)."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Subscription id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Customer (users.id).")
    plan: Mapped[str] = col(String(20), comment="basic, pro or premium.")
    status: Mapped[str] = col(String(20), comment="trialing, active, past_due or cancelled.")
    monthly_price: Mapped[float] = col(Money, comment="Price per month.")
    currency: Mapped[str] = col(String(3), comment="Currency of the price.")
    started_at: Mapped[datetime] = col(DateTime, comment="Start of the subscription (UTC).")
    current_period_end: Mapped[datetime] = col(DateTime, comment="End of the paid period (UTC).")
    cancelled_at: Mapped[datetime | None] = col(DateTime, comment="When it was cancelled, if so.")
    # -- payments: columns added by revision 0009 --
    provider_reference: Mapped[str | None] = col(
        String(64), comment="Payment provider's id, e.g. a Stripe subscription (sub_...)."
    )
    cancel_at_period_end: Mapped[bool] = col(
        Boolean,
        default=False,
        server_default="0",
        comment="True: it ends at current_period_end instead of renewing.",
    )
    failed_attempts: Mapped[int] = col(
        Integer,
        default=0,
        server_default="0",
        comment="Renewal payments failed in a row (0 when paid up).",
    )
    next_retry_at: Mapped[datetime | None] = col(
        DateTime, comment="When a past_due renewal is retried next (UTC); empty otherwise."
    )


class KycVerification(Base):
    __tablename__ = "kyc_verifications"
    __table_args__ = {"comment": "Identity checks (know your customer); the latest row is current."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Verification id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Customer (users.id).")
    level: Mapped[str] = col(String(12), comment="basic or enhanced due diligence.")
    status: Mapped[str] = col(
        String(20),
        comment="not_started, pending (submitted), in_review, approved, rejected, "
        "requires_input (the customer must send more) or expired.",
    )
    document_type: Mapped[str | None] = col(
        String(20), comment="passport, national_id or driving_licence."
    )
    submitted_at: Mapped[datetime | None] = col(DateTime, comment="When documents were sent.")
    reviewed_at: Mapped[datetime | None] = col(DateTime, comment="When a reviewer decided.")
    rejection_reason: Mapped[str | None] = col(String(200), comment="Why it was rejected.")
    expires_at: Mapped[datetime | None] = col(DateTime, comment="When an approval lapses.")
    # -- kyc: columns added by revision 0009 --
    provider: Mapped[str | None] = col(
        String(20), comment="Who checks the identity: stripe_identity, manual or test."
    )
    provider_reference: Mapped[str | None] = col(
        String(64), comment="Provider's id of the check, e.g. a Stripe verification session."
    )
    reviewer_id: Mapped[int | None] = col(
        Integer, comment="Staff user who made the last decision (users.id); empty if none."
    )
    requested_input: Mapped[str | None] = col(
        String(300), comment="What the customer was asked to provide when requires_input."
    )
    document_id: Mapped[int | None] = col(
        Integer, comment="The uploaded identity document (documents.id), restricted."
    )
    mismatches: Mapped[str | None] = col(
        String(500), comment="Fields of the document that did not match the profile."
    )
    # -- added by revision 0010 --
    expiry_notice_at: Mapped[datetime | None] = col(
        DateTime, comment="When the customer was told the approval lapses soon; empty if not yet."
    )


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = {"comment": "The firm's documents: policies, fee schedules, handbooks."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Document id.")
    title: Mapped[str] = col(String(200), comment="Human title.")
    filename: Mapped[str] = col(String(255), comment="Original file name of the current version.")
    doc_type: Mapped[str] = col(
        String(20), comment="fee_schedule, policy, handbook, terms, faq or other."
    )
    visibility: Mapped[str] = col(
        String(20),
        comment="public (everyone), internal (staff only) or restricted (only the roles and "
        "users listed in access_roles and access_user_ids).",
    )
    mime_type: Mapped[str] = col(String(100), comment="Media type of the current version's file.")
    content_hash: Mapped[str] = col(String(64), comment="sha256 of the current version's bytes.")
    created_at: Mapped[datetime] = col(DateTime, comment="When it was added (UTC).")
    source: Mapped[str] = col(
        String(500),
        unique=True,
        comment="Where it comes from: the path it was ingested from, upload:<file name>, or "
        "demo:<file name>. Ingesting the same source again makes a new version.",
    )
    current_version: Mapped[int] = col(
        Integer, comment="Version number now served (1 for the first); 0 before any ingestion."
    )
    updated_at: Mapped[datetime] = col(
        DateTime, comment="When the current version or the access rules last changed (UTC)."
    )
    access_roles: Mapped[str] = col(
        String(100),
        comment="Comma-separated roles that may read a restricted document; empty otherwise.",
    )
    access_user_ids: Mapped[str] = col(
        Text, comment="Comma-separated user ids that may read a restricted document."
    )


class DocumentVersion(Base):
    __tablename__ = "document_versions"
    __table_args__ = (
        Index("ix_document_versions_document_version", "document_id", "version", unique=True),
        {"comment": "Every ingested version of a document: its file, its text, how it was read."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Version row id.")
    document_id: Mapped[int] = col(
        ForeignKey("documents.id", ondelete="CASCADE"), comment="Document (documents.id)."
    )
    version: Mapped[int] = col(Integer, comment="Version number within the document, from 1.")
    filename: Mapped[str] = col(String(255), comment="File name as ingested.")
    mime_type: Mapped[str] = col(String(100), comment="Media type of the file.")
    size_bytes: Mapped[int] = col(Integer, comment="Size of the file in bytes.")
    content_hash: Mapped[str] = col(String(64), comment="sha256 of the file's bytes.")
    blob_key: Mapped[str] = col(String(500), comment="Key of the original file in the blob store.")
    page_count: Mapped[int | None] = col(Integer, comment="Pages, for PDFs; empty otherwise.")
    method: Mapped[str] = col(
        String(60), comment="How the text was read, e.g. docling, docling+ocr:rapidocr, text."
    )
    text: Mapped[str] = col(Text, comment="Extracted text (Markdown); chunk offsets refer to it.")
    ingested_by: Mapped[int | None] = col(
        Integer, comment="User id that ingested it; empty for the operator or the system."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was ingested (UTC).")


class DocumentChunk(Base):
    __tablename__ = "document_chunks"
    __table_args__ = {"comment": "Passages of each document's current version, as indexed."}

    id: Mapped[str] = col(
        String(80), primary_key=True, comment="Chunk id: document_id:version:ordinal."
    )
    document_id: Mapped[int] = col(
        ForeignKey("documents.id", ondelete="CASCADE"),
        index=True,
        comment="Document (documents.id).",
    )
    version_id: Mapped[int] = col(
        ForeignKey("document_versions.id", ondelete="CASCADE"),
        index=True,
        comment="Version it was cut from (document_versions.id).",
    )
    ordinal: Mapped[int] = col(Integer, comment="Position in the version, from 0.")
    section: Mapped[str | None] = col(
        String(500), comment="Heading path, e.g. 'Fees > Withdrawals'."
    )
    page: Mapped[int | None] = col(Integer, comment="First page it comes from (PDF), from 1.")
    start_char: Mapped[int] = col(Integer, comment="Start offset in the version's text.")
    end_char: Mapped[int] = col(Integer, comment="End offset (exclusive) in the version's text.")
    text: Mapped[str] = col(Text, comment="The passage: the version's text from start to end.")


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_due", "status", "next_attempt_at"),
        {"comment": "Messages sent to customers by email, SMS, push or in the app."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Notification id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Recipient (users.id).")
    channel: Mapped[str] = col(String(10), comment="email, sms, push or in_app.")
    subject: Mapped[str] = col(String(200), comment="Subject line.")
    body: Mapped[str] = col(Text, comment="Message text.")
    status: Mapped[str] = col(
        String(10),
        comment="pending (queued, not yet delivered), sent, failed (given up, see last_error) "
        "or read (an in-app message the user opened).",
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was queued (UTC).")
    sent_at: Mapped[datetime | None] = col(DateTime, comment="When it was delivered (UTC).")
    # -- notifications: delivery --
    kind: Mapped[str | None] = col(
        String(40),
        comment="What it is about: order_filled, order_rejected, price_alert_fired, "
        "payment_succeeded, payment_failed, subscription_past_due, kyc_decided, kyc_expiring "
        "or staff_message; empty for older rows.",
    )
    event_id: Mapped[str | None] = col(
        String(200), index=True, comment="Id of the domain event that caused it, if any."
    )
    body_html: Mapped[str | None] = col(Text, comment="HTML version of the body, for email.")
    attempts: Mapped[int] = col(
        Integer, default=0, server_default="0", comment="Delivery attempts made so far."
    )
    next_attempt_at: Mapped[datetime | None] = col(
        DateTime, comment="When the next delivery attempt is due (UTC); empty once settled."
    )
    last_error: Mapped[str | None] = col(
        String(500), comment="Why the last delivery attempt failed; empty after success."
    )


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = {"comment": "Who did what and when: questions, SQL run, refusals, tool calls."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Entry id.")
    occurred_at: Mapped[datetime] = col(DateTime, index=True, comment="When it happened (UTC).")
    actor_user_id: Mapped[int | None] = col(Integer, comment="Acting user id, empty for system.")
    actor_role: Mapped[str] = col(String(20), comment="Role of the actor.")
    action: Mapped[str] = col(String(50), comment="What was done, e.g. chat.answer, sql.rejected.")
    outcome: Mapped[str] = col(String(20), comment="ok, rejected or error.")
    detail: Mapped[str] = col(Text, comment="JSON with the specifics of the event.")


class SqlExample(Base):
    __tablename__ = "sql_examples"
    __table_args__ = {"comment": "Verified question and SQL pairs the SQL agent learns from."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Example id.")
    question: Mapped[str] = col(Text, comment="The question as a user asked it.")
    sql: Mapped[str] = col(Text, comment="SQL verified to answer it.")
    source: Mapped[str] = col(String(20), comment="seed (shipped) or feedback (a user confirmed).")
    created_at: Mapped[datetime] = col(DateTime, comment="When it was added (UTC).")


class SqlExampleReview(Base):
    __tablename__ = "sql_example_reviews"
    __table_args__ = (
        UniqueConstraint("answer_id", name="uq_sql_example_reviews_answer"),
        {"comment": "Confirmed answers waiting for staff before they become SQL examples."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Review id.")
    answer_id: Mapped[int] = col(
        Integer, comment="The audit record of the answer that was confirmed."
    )
    question: Mapped[str] = col(Text, comment="The question as it was asked.")
    sql: Mapped[str] = col(Text, comment="The SQL the model wrote for it.")
    proposed_by: Mapped[int | None] = col(
        ForeignKey("users.id"), nullable=True, comment="The user who confirmed the answer."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was confirmed (UTC).")
    status: Mapped[str] = col(String(10), index=True, comment="pending, approved or rejected.")
    reviewer_id: Mapped[int | None] = col(
        ForeignKey("users.id"), nullable=True, comment="The staff member who decided."
    )
    reviewed_at: Mapped[datetime | None] = col(
        DateTime, nullable=True, comment="When it was decided (UTC)."
    )
    reason: Mapped[str | None] = col(Text, nullable=True, comment="Why it was rejected.")


# -- notifications: delivery bookkeeping, preferences and the events already handled --
# (the delivery columns of `notifications` are declared on the class above)


class NotificationPreference(Base):
    __tablename__ = "notification_preferences"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "channel"),
        {
            "comment": "A user's choice to receive, or not, one kind of notification on one "
            "channel; without a row the platform's default for the channel applies."
        },
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Preference id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), comment="User it belongs to (users.id).")
    kind: Mapped[str] = col(
        String(40),
        comment="Kind of notification, e.g. order_filled, payment_failed, kyc_decided.",
    )
    channel: Mapped[str] = col(String(10), comment="email, sms, push or in_app.")
    enabled: Mapped[bool] = col(Boolean, comment="True: send this kind on this channel.")
    updated_at: Mapped[datetime] = col(DateTime, comment="When it was last changed (UTC).")


class NotificationEventSeen(Base):
    __tablename__ = "notification_events"
    __table_args__ = {
        "comment": "Domain events the notification service has handled, one row per event id; "
        "its key is what makes a redelivered event notify only once."
    }

    event_id: Mapped[str] = col(
        String(200), primary_key=True, comment="The event's id (CloudEvents id), unique."
    )
    type: Mapped[str] = col(String(200), comment="The event's type, e.g. ...order.filled.v1.")
    user_id: Mapped[int] = col(Integer, comment="User the event was about (users.id).")
    notifications: Mapped[int] = col(Integer, comment="How many notifications it created.")
    handled_at: Mapped[datetime] = col(DateTime, comment="When it was handled (UTC).")


# -- market data: quotes, bars and price alerts (services/market) --------------------------
class Quote(Base):
    __tablename__ = "quotes"
    __table_args__ = {"comment": "Latest price of each instrument (public market data)."}

    symbol: Mapped[str] = col(String(20), primary_key=True, comment="Instrument ticker.")
    price: Mapped[float] = col(Price, comment="Last traded price.")
    bid: Mapped[float | None] = col(Price, comment="Best bid, when the feed gives one.")
    ask: Mapped[float | None] = col(Price, comment="Best ask, when the feed gives one.")
    volume: Mapped[float] = col(Quantity, comment="Units traded so far in the current day (UTC).")
    as_of: Mapped[datetime] = col(DateTime, comment="Time of the last trade (UTC).")


class PriceBar(Base):
    __tablename__ = "price_bars"
    __table_args__ = (
        Index("ix_price_bars_symbol_interval_start", "symbol", "interval", "start", unique=True),
        {"comment": "Open-high-low-close bars per instrument at 1 minute, 1 hour and 1 day."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Row id.")
    symbol: Mapped[str] = col(String(20), comment="Instrument ticker.")
    interval: Mapped[str] = col(String(3), comment="Bar length: 1m, 1h or 1d.")
    start: Mapped[datetime] = col(DateTime, comment="Start of the bar (UTC), inclusive.")
    open: Mapped[float] = col(Price, comment="First price in the bar.")
    high: Mapped[float] = col(Price, comment="Highest price in the bar.")
    low: Mapped[float] = col(Price, comment="Lowest price in the bar.")
    close: Mapped[float] = col(Price, comment="Last price in the bar (so far, for the open bar).")
    volume: Mapped[float] = col(Quantity, comment="Units traded in the bar.")


class PriceAlert(Base):
    __tablename__ = "price_alerts"
    __table_args__ = (
        Index("ix_price_alerts_status_symbol", "status", "symbol"),
        {"comment": "Customers' price alerts: tell me when a price goes above or below a level."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Alert id.")
    user_id: Mapped[int] = col(
        ForeignKey("users.id"), index=True, comment="Customer who set it (users.id)."
    )
    symbol: Mapped[str] = col(String(20), comment="Instrument ticker.")
    direction: Mapped[str] = col(
        String(5), comment="above (fires at or over the threshold) or below (at or under)."
    )
    threshold: Mapped[float] = col(Price, comment="Price level that fires it.")
    status: Mapped[str] = col(
        String(10), comment="active (waiting), fired (went off once) or deleted (by its owner)."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was set (UTC).")
    fired_at: Mapped[datetime | None] = col(
        DateTime, comment="Time of the trade that fired it (UTC); empty until it fires."
    )
    fired_price: Mapped[float | None] = col(
        Price, comment="Price of the trade that fired it; empty until it fires."
    )


# -- trading (services/trading) ------------------------------------------------------------------
class Instrument(Base):
    __tablename__ = "instruments"
    __table_args__ = {"comment": "Instruments the firm lists: what can be traded and in what."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Instrument id.")
    symbol: Mapped[str] = col(
        String(20), unique=True, comment="Ticker as orders name it, e.g. AAPL or BTCUSD."
    )
    asset_class: Mapped[str] = col(String(10), comment="equity (includes ETFs) or crypto.")
    tradable: Mapped[bool] = col(
        Boolean, comment="True when customers may place orders on it now; false when halted."
    )
    currency: Mapped[str] = col(String(3), comment="Currency it is priced in, e.g. USD.")


# -- events: the transactional outbox and idempotent consumers (services/events) --


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_due", "dispatched_at", "available_at"),
        {
            "comment": "Domain events written in the same transaction as the change they "
            "describe, kept until the dispatcher has delivered them to the message bus."
        },
    )

    id: Mapped[str] = col(
        String(36), primary_key=True, comment="Event id (CloudEvents id, a uuid)."
    )
    type: Mapped[str] = col(
        String(120), comment="CloudEvents type, e.g. com.tradingassist.order.filled.v1."
    )
    source: Mapped[str] = col(
        String(200), comment="CloudEvents source, e.g. /trading-assist/trading."
    )
    subject: Mapped[str | None] = col(
        String(200), comment="What the event is about, e.g. orders/42."
    )
    data: Mapped[str] = col(Text, comment="The event's payload as JSON text.")
    created_at: Mapped[datetime] = col(
        DateTime, comment="When the event happened and was recorded (UTC); its CloudEvents time."
    )
    available_at: Mapped[datetime] = col(
        DateTime, comment="Earliest time of the next delivery attempt (UTC)."
    )
    attempts: Mapped[int] = col(Integer, comment="Failed delivery attempts so far.")
    dispatched_at: Mapped[datetime | None] = col(
        DateTime, comment="When the bus accepted it (UTC); empty while still to deliver."
    )
    last_error: Mapped[str | None] = col(Text, comment="Why the last delivery attempt failed.")
    claimed_by: Mapped[str | None] = col(
        String(100), comment="Dispatcher currently delivering it; empty when unclaimed."
    )
    claimed_until: Mapped[datetime | None] = col(
        DateTime, comment="End of that dispatcher's lease (UTC); after it another may claim."
    )


class ProcessedEvent(Base):
    __tablename__ = "processed_events"
    __table_args__ = (
        UniqueConstraint("consumer", "event_id"),
        {"comment": "Events each consumer has handled, so a second delivery changes nothing."},
    )

    id: Mapped[int] = col(Integer, primary_key=True, comment="Row id.")
    consumer: Mapped[str] = col(String(100), comment="Name of the consumer that handled it.")
    event_id: Mapped[str] = col(String(100), comment="Event id (CloudEvents id).")
    processed_at: Mapped[datetime] = col(DateTime, comment="When it was handled (UTC).")


# -- identity: credentials other systems call the API with --------------------------------------


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = {"comment": "Keys other systems call the API with; only their hash is kept."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Key id.")
    name: Mapped[str] = col(String(100), unique=True, comment="Who uses it, e.g. crm-sync.")
    prefix: Mapped[str] = col(
        String(12), comment="First characters of the key, to recognise it in a list."
    )
    key_hash: Mapped[str] = col(
        String(64), unique=True, comment="sha256 (hex) of the key; the key itself is not kept."
    )
    role: Mapped[str] = col(String(20), comment="Platform role it acts with, usually service.")
    scopes: Mapped[str] = col(String(200), comment="Comma-separated scopes, e.g. tools:read.")
    user_id: Mapped[int | None] = col(
        ForeignKey("users.id"), comment="User it acts for (users.id); empty for a system."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was created (UTC).")
    last_used_at: Mapped[datetime | None] = col(DateTime, comment="Last accepted use (UTC).")
    revoked_at: Mapped[datetime | None] = col(
        DateTime, comment="When it was revoked (UTC); a revoked key is refused."
    )


class UserPassword(Base):
    __tablename__ = "user_passwords"
    __table_args__ = {
        "comment": "Chat UI sign-in passwords (local mode), as scrypt hashes; never the password."
    }

    user_id: Mapped[int] = col(ForeignKey("users.id"), primary_key=True, comment="User (users.id).")
    password_hash: Mapped[str] = col(
        String(255), comment="scrypt$<log2 n>$<r>$<p>$<salt>$<key>: salt and key in base64."
    )
    updated_at: Mapped[datetime] = col(DateTime, comment="When the password was last set (UTC).")


# -- payments: Stripe customers, refunds and the webhook events already handled --
# (the new columns of `payments`, `subscriptions` and `kyc_verifications` are on the classes above)


class StripeCustomer(Base):
    __tablename__ = "stripe_customers"
    __table_args__ = {"comment": "Each user's customer record at Stripe, created on first use."}

    user_id: Mapped[int] = col(ForeignKey("users.id"), primary_key=True, comment="User (users.id).")
    customer_id: Mapped[str] = col(String(64), unique=True, comment="Stripe customer id (cus_...).")
    created_at: Mapped[datetime] = col(DateTime, comment="When it was created (UTC).")


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = {"comment": "Money given back on a deposit, by support or an admin."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Refund id.")
    payment_id: Mapped[int] = col(
        ForeignKey("payments.id"), index=True, comment="Payment refunded (payments.id)."
    )
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Customer (users.id).")
    amount: Mapped[float] = col(Money, comment="Amount refunded, positive.")
    currency: Mapped[str] = col(String(3), comment="Currency of amount.")
    reason: Mapped[str | None] = col(String(200), comment="Why, as staff wrote it.")
    provider_reference: Mapped[str | None] = col(String(64), comment="Stripe refund id (re_...).")
    created_by: Mapped[int | None] = col(Integer, comment="Staff user who refunded (users.id).")
    idempotency_key: Mapped[str | None] = col(
        String(100), unique=True, comment="Key of the confirmed request; a retry refunds once."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When it was refunded (UTC).")


class StripeEvent(Base):
    __tablename__ = "stripe_events"
    __table_args__ = {
        "comment": "Stripe webhook events received, one row per event id, so a replay changes "
        "nothing."
    }

    event_id: Mapped[str] = col(String(100), primary_key=True, comment="Stripe event id (evt_...).")
    type: Mapped[str] = col(String(100), comment="Event type, e.g. payment_intent.succeeded.")
    outcome: Mapped[str] = col(
        String(20), comment="applied, or stale (older than the state already held)."
    )
    received_at: Mapped[datetime] = col(DateTime, comment="When it arrived (UTC).")
