"""The SQL agent: a question about the database becomes one guarded, read-only query, and
what only it uses to write, mend and check that query."""
