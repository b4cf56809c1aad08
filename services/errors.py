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
        "off_schema": 422,  # the SQL agent's question is about nothing the database holds
        "unknown_answer": 404,
        "unknown_review": 404,
        "already_decided": 409,
        "no_pending_action": 409,
        "not_found": 404,
        "service_unavailable": 503,
        "unknown_tool": 404,
        "tool_forbidden": 403,
        "invalid_arguments": 422,
        "confirmation_required": 409,
        "tool_failed": 500,
        "idempotency_key_required": 400,
        "action_refused": 422,
        "invalid_request": 422,
        # notifications
        "template_failed": 422,
        "notification_forbidden": 403,
        "invalid_notification": 422,
        "invalid_preference": 422,
        "unknown_notification": 404,
        "notification_not_in_app": 409,
        # market data
        "unknown_symbol": 404,
        "unknown_alert": 404,
        "invalid_interval": 422,
        "invalid_range": 422,
        "invalid_alert": 422,
        "too_many_alerts": 409,
        "alert_needs_user": 403,
        "market_file_invalid": 422,
        "events_invalid": 422,
        "too_many_symbols": 422,
        "invalid_symbols": 422,
        # -- trading (services/trading) --
        "invalid_order": 422,  # both or neither of quantity/notional, a price missing or extra
        "invalid_quantity": 422,  # quantity or notional zero or negative
        "account_required": 422,  # staff asked for a portfolio without naming an account
        "unknown_account": 404,  # missing or not the caller's: the same answer for both
        "no_trading_account": 404,  # no active account of the caller can trade the symbol
        "ambiguous_account": 409,  # several accounts could trade the symbol: name one
        "wrong_account_type": 422,  # crypto on a cash/margin account, equity on a crypto one
        "account_inactive": 409,  # suspended or closed
        "orders_customers_only": 403,  # staff may read and cancel, never place
        "kyc_required": 403,  # no approved, unexpired identity check
        "not_tradable": 409,  # listed but halted
        "no_price": 503,  # no latest price to execute or estimate against
        "order_limit_exceeded": 422,  # above the customer's tier limits
        "insufficient_buying_power": 409,
        "insufficient_holdings": 409,
        "market_closed": 409,  # equities outside 09:30-16:00 New York, Monday to Friday
        "unknown_order": 404,  # missing or not the caller's
        "order_not_working": 409,  # cancel of a filled, cancelled or rejected order
        "unknown_event_type": 422,
        "event_invalid": 422,
        "bus_unsupported": 422,
        "bus_cannot_subscribe": 501,
        "unauthenticated": 401,
        "forbidden": 403,
        "user_inactive": 403,
        "account_conflict": 403,
        "rate_limited": 429,
        "body_too_large": 413,
        "invalid_api_key_request": 422,
        "weak_password": 422,
        "identity_unavailable": 503,
        # payments and kyc
        "payments_not_configured": 503,
        "payment_provider_error": 502,
        "invalid_payment": 422,
        "unknown_payment": 404,
        "refund_too_large": 422,
        "refund_not_allowed": 409,
        "withdrawal_not_allowed": 409,
        "insufficient_funds": 422,
        "unknown_plan": 422,
        "unknown_subscription": 404,
        "webhook_not_configured": 503,
        "bad_webhook_signature": 400,
        "kyc_transition_not_allowed": 409,
        "kyc_document_mismatch": 422,
        "kyc_not_found": 404,
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
