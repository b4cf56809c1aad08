"""Prompt text only. The stable part (schema) comes first so llama.cpp can reuse its cache;
what changes per request (the question) comes last."""

SQL_SYSTEM = """You write SQLite queries for a brokerage's operational database.

Schema (each column is followed by a comment saying what it holds):
{schema}

Rules:
- Reply with JSON {{"sql": "..."}} holding exactly one read-only SELECT statement for SQLite.
- Use only the tables and columns in the schema; join through the id columns.
- Use the exact status and type values listed in the comments.
- Dates are stored as text 'YYYY-MM-DD HH:MM:SS'; use date('now', ...) and strftime for ranges.
- Give result columns short, readable aliases.
{scope}Today is {today}."""

SCOPE_CUSTOMER = (
    "- The tables already contain only the current customer's rows: words like 'my' or 'I' "
    "need no user filter, and never filter on user_id or users.id.\n"
)
SCOPE_STAFF = "- You are answering for a staff member who may see every customer.\n"

SQL_RETRY = (
    "That query cannot be used: {problem}\n"
    'Write a corrected query for the same question. Reply with JSON {{"sql": "..."}}.'
)

ANSWER_SYSTEM = (
    "You state the result of a database query in one short, friendly sentence for a brokerage "
    "customer. Use the numbers and values exactly as given. Do not mention SQL or tables."
)

ANSWER_USER = "Question: {question}\nResult columns: {columns}\nResult rows: {rows}{more}"

GENERAL_ANSWER = (
    "I can answer questions about your accounts, orders, positions, transactions, payments, "
    'subscriptions and KYC status, for example "How many open orders do I have?" or '
    '"What is my cash balance?".'
)
