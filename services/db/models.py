"""The operational schema.

Every table and column carries a comment: the NL->SQL agent shows them to the model and schema
linking searches them, so they are written for a reader who has never seen this database.
Every table that holds a customer's data has a direct `user_id` column; row-level scoping in
`sql_guard` relies on it instead of following foreign-key paths.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
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
    __table_args__ = {"comment": "People with a login: customers, support staff and admins."}

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
        "filled, cancelled or rejected. Open orders are those in open or partially_filled.",
    )
    filled_quantity: Mapped[float] = col(Quantity, comment="Quantity filled so far.")
    avg_fill_price: Mapped[float | None] = col(Price, comment="Average price of the fills.")
    created_at: Mapped[datetime] = col(DateTime, comment="When the order was placed (UTC).")
    updated_at: Mapped[datetime] = col(DateTime, comment="Last change of status or fills (UTC).")


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
    status: Mapped[str] = col(String(12), comment="pending, succeeded, failed or refunded.")
    provider_reference: Mapped[str | None] = col(
        String(64), comment="Payment provider's id, e.g. a Stripe payment intent."
    )
    card_last4: Mapped[str | None] = col(
        String(4), comment="Last four digits of the card (payment data)."
    )
    created_at: Mapped[datetime] = col(DateTime, comment="When the payment was created (UTC).")


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


class KycVerification(Base):
    __tablename__ = "kyc_verifications"
    __table_args__ = {"comment": "Identity checks (know your customer); the latest row is current."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Verification id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Customer (users.id).")
    level: Mapped[str] = col(String(12), comment="basic or enhanced due diligence.")
    status: Mapped[str] = col(
        String(20), comment="not_started, pending, in_review, approved, rejected or expired."
    )
    document_type: Mapped[str | None] = col(
        String(20), comment="passport, national_id or driving_licence."
    )
    submitted_at: Mapped[datetime | None] = col(DateTime, comment="When documents were sent.")
    reviewed_at: Mapped[datetime | None] = col(DateTime, comment="When a reviewer decided.")
    rejection_reason: Mapped[str | None] = col(String(200), comment="Why it was rejected.")
    expires_at: Mapped[datetime | None] = col(DateTime, comment="When an approval lapses.")


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
    __table_args__ = {"comment": "Messages sent to customers by email, SMS, push or in the app."}

    id: Mapped[int] = col(Integer, primary_key=True, comment="Notification id.")
    user_id: Mapped[int] = col(ForeignKey("users.id"), index=True, comment="Recipient (users.id).")
    channel: Mapped[str] = col(String(10), comment="email, sms, push or in_app.")
    subject: Mapped[str] = col(String(200), comment="Subject line.")
    body: Mapped[str] = col(Text, comment="Message text.")
    status: Mapped[str] = col(String(10), comment="pending, sent, failed or read.")
    created_at: Mapped[datetime] = col(DateTime, comment="When it was queued (UTC).")
    sent_at: Mapped[datetime | None] = col(DateTime, comment="When it was delivered (UTC).")


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
