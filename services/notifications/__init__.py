"""Notifications: domain events and staff messages turned into email, SMS, push and in-app
messages, per each user's preferences, delivered with retries.

`service.NotificationService` is the entry point; `events.NotificationEvent` is what the event
bus hands it, `channels` holds the ways a message leaves the platform.
"""
