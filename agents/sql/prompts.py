"""The SQL agent's prompt text only. The stable part (the schema) comes first so llama.cpp can
reuse its cache; what changes per request (examples, the question) comes last."""

SQL_SYSTEM = """You write {dialect} queries that answer questions about a database.

Database schema:
{schema}
{semantic}

Rules:
- Reply with JSON {{"sql": "..."}} holding exactly one read-only SELECT statement.
- Use only the tables and columns above, each column from the table that has it.
- Return only the columns the question asks for, in the order it asks.
- Filter only on conditions the question states; add no others.
- Compare text with the exact values listed in the schema.
{notes}"""

# What the business's words mean, the stored formats and today's date come from the semantic
# model file (services/semantic/trading.yaml), shown above these rules
PLATFORM_NOTES = """- Give result columns short, readable aliases.
{scope}"""

# The caller's line comes last: everything above it is shared by every caller of a role, so the
# processed prompt is reused; the guard scopes a customer's rows whatever the model writes.
SCOPE_CUSTOMER = (
    "- You are answering the customer with user_id {user_id}: 'my' and 'I' mean this "
    "customer, so filter their rows with user_id = {user_id} (in users: id = {user_id})."
)
SCOPE_STAFF = "- You are answering a staff member who may see every customer."

QUESTION = "{instructions}Question: {question}"
INSTRUCTIONS = "Definitions to follow: {text}\n"
ADVICE = "Advice: {text}\n"  # a semantic model instruction that matches the question
# The semantic model's row sets and measures the question names, with their definitions
NAMED = "The question's terms, as defined here:\n{text}\n"

# Appended to an aggregate question: the model picks names, the semantic layer writes the SQL
METRIC_CHOICE = (
    "Answer by choosing from the measures and row sets above: the measures, the rows to read "
    "(a row set or table, optional), the columns to group by, a date column and period for a "
    "figure per period, filters, the order and a limit."
)

# Appended to the question on a retry; the rejected draft itself is not shown again
SQL_RETRY = (
    "Earlier queries for this question failed: {problems}. Write one that avoids these mistakes."
)

BASELINE = """{schema}

Write one SQLite query that answers this question: {question}
Reply with the SQL only."""

# A follow-up's answer that is the earlier question's result again
UNCHANGED = (
    "the result is the earlier query's result again, unchanged; change the earlier query as "
    "the follow-up question asks"
)

OFF_SCHEMA = "The database holds nothing about {subject}."
