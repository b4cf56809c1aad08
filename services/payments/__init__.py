"""Payments through Stripe: customers and saved payment methods, deposits (payment intents,
3-D Secure surfaced), refunds, staff-approved withdrawals, subscriptions with dunning, and the
webhook that keeps the database in step with Stripe.

`service.PaymentService` is the entry point; `gateway.StripeGateway` is the only module that
speaks to Stripe; `webhooks.StripeWebhooks` verifies and applies Stripe's events.
"""
