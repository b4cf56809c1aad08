"""The guard's case files: titled SQL statements with the outcome the guard must reach.

The fixtures in `tests/fixtures/sql_guard/*.sql` and the `bench guard` corpus are read by
`read_cases`, so adding a case is adding two lines (the SQL, then the outcome) under a title:

    # title: writable CTE hides a DELETE
    # dialect: postgres
    WITH d AS (DELETE FROM orders RETURNING *) SELECT * FROM d
    write_statement

A case is a block of lines separated from the next by a blank line. `# key: value` lines set its
`title`, `dialect`, `role` and `user` (the caller's user id); the last other line is the expected
outcome, `allowed` or the reason codes separated by spaces, and the lines before it are the SQL.
A block made only of `# key: value` lines sets the defaults for the cases after it; other lines
starting with `#` and holding no SQL are comments.

>>> text = '''# dialect: postgres
...
... # title: plain count
... SELECT COUNT(*) FROM orders
... allowed
...
... # title: two statements
... # role: support
... SELECT 1;
... DROP TABLE users
... statement_count'''
>>> [(c.title, c.dialect, c.role, c.expected) for c in parse_cases(text)]
[('plain count', 'postgres', 'customer', ()), ('two statements', 'postgres', 'support', ('statement_count',))]
>>> parse_cases(text)[1].sql
'SELECT 1;\\nDROP TABLE users'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from services.identity import Caller, Role

KEYS = ("title", "dialect", "role", "user")
_META = re.compile(r"^#\s*(" + "|".join(KEYS) + r")\s*:\s*(.*?)\s*$")
DEFAULT_USER_ID = 7


@dataclass(frozen=True)
class GuardCase:
    title: str
    sql: str
    expected: tuple[str, ...]  # reason codes; empty means allowed
    dialect: str = "sqlite"
    role: str = "customer"
    user: int | None = DEFAULT_USER_ID
    source: str = ""

    @property
    def allowed(self) -> bool:
        return not self.expected

    def caller(self) -> Caller:
        role = Role(self.role)
        return Caller(role=role, user_id=self.user if role is Role.CUSTOMER else None)


def parse_cases(text: str, source: str = "") -> list[GuardCase]:
    """Every case in a case file's text, with the file's defaults applied."""
    defaults: dict[str, str] = {}
    cases = []
    for number, block in enumerate(re.split(r"\n\s*\n", text.strip())):
        meta: dict[str, str] = {}
        body: list[str] = []
        for line in block.splitlines():
            match = _META.match(line.strip())
            if match:
                meta[match.group(1)] = match.group(2)
            elif line.strip():
                body.append(line.rstrip())
        if all(line.lstrip().startswith("#") for line in body):
            if meta and "title" not in meta:
                defaults.update(meta)
            continue
        if len(body) < 2:
            raise ValueError(f"{source} block {number + 1}: needs SQL and an expected outcome")
        settings = {**defaults, **meta}
        outcome = body[-1].split()
        user = settings.get("user", str(DEFAULT_USER_ID))
        cases.append(
            GuardCase(
                title=settings.get("title", f"case {number + 1}"),
                sql="\n".join(body[:-1]),
                expected=() if outcome == ["allowed"] else tuple(outcome),
                dialect=settings.get("dialect", "sqlite"),
                role=settings.get("role", "customer"),
                user=None if user.lower() == "none" else int(user),
                source=source,
            )
        )
    return cases


def read_cases(directory: Path) -> list[GuardCase]:
    """The cases of every `*.sql` file in `directory`, in file-name order."""
    cases = []
    for path in sorted(directory.glob("*.sql")):
        cases.extend(parse_cases(path.read_text(encoding="utf-8"), source=path.name))
    return cases
