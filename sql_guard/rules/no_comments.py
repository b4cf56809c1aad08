"""No comments: they hide text from a reviewer and are where parsers disagree."""

from __future__ import annotations

from sql_guard.rules.subject import Subject
from sql_guard.verdict import Reason


def no_comments(subject: Subject) -> list[Reason]:
    """Comments are refused outright. They are how `SELECT 1 -- ;DROP ...` and `/* */` tricks
    hide text, MySQL runs `/*! ... */` as code, and they can carry SQLGlot directives
    (`/* sqlglot.meta ... */`). The SQL that runs is regenerated without comments anyway.

    >>> [r.code for r in no_comments(Subject.parse("SELECT 1 -- ;DROP TABLE users"))]
    ['comment']
    >>> no_comments(Subject.parse("SELECT '-- not a comment' AS x"))
    []
    """
    if any(node.comments for node in subject.nodes):
        return [Reason(code="comment", message="comments are not allowed in a query; remove them")]
    return []
