"""Know your customer: the verification workflow (a state machine), identity documents checked
against the profile, a review queue for support, and the identity provider (Stripe Identity, or
a test provider that drives the same webhook path).

`service.KycService` is the entry point; `KycService.is_verified` is what the pre-trade check
asks.
"""
