"""Market data: quotes, bars and price alerts, the batch price pipeline that keeps them, and the
in-process hub that streams each user's share of its results.

`events` holds the array types the pipeline reads, `pipeline` the vectorised engine and its
plain-Python reference, `state` the end state both are compared on, `loader` turns bar files
into events, `hub` fans results out to subscribers, and `service` (`MarketData`) is the
database-facing side.
"""
