"""Routing: what a request is (its query type, sensitivity and complexity), whether it continues
the turn before, and which provider serves it, without calling a model."""
