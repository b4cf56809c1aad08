"""Foreign keys a database never declared, inferred from column names.

Warehouses and exports often declare no keys (defog's broker and ewallet databases declare
none), which leaves the model no hint how tables join and the SQL agent's column repair no path
to follow. For such a database only, a column is taken to refer to another table's key when
its name says so:

- the same name as the key (`people_id` -> `people.people_id`);
- the key's last two name parts (`sbDpTickerId` -> `sbTicker.sbTickerId`);
- the referred table's singular name and `id` (`merchant_id` -> `merchants.mid`).

The catalog (`services.catalog`) picks each table's key: its declared single-column primary key,
else its first column when `names_an_id` and its values are unique.
"""

from __future__ import annotations

import re

ForeignKey = tuple[str, str, str]  # (column, referred table, referred column)


def name_parts(name: str) -> list[str]:
    """
    >>> name_parts("sbDpTickerId"), name_parts("merchant_id"), name_parts("UID")
    (['sb', 'dp', 'ticker', 'id'], ['merchant', 'id'], ['uid'])
    """
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return [p.lower() for p in re.split(r"[_\W]+", spaced) if p]


def _singular(word: str) -> str:
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def refers_to(column: str, table: str, key: str) -> bool:
    """
    >>> refers_to("sbTxCustId", "sbCustomer", "sbCustId")
    True
    >>> refers_to("coupon_id", "coupons", "cid"), refers_to("sender_id", "users", "uid")
    (True, False)
    """
    parts, key_parts = name_parts(column), name_parts(key)
    if parts == key_parts:
        return True
    if len(key_parts) >= 2 and parts[-2:] == key_parts[-2:]:
        return True
    singular = _singular(name_parts(table)[-1])
    return parts in ([*name_parts(_singular(table)), "id"], [singular, "id"])


def names_an_id(column: str) -> bool:
    """Whether a column is named like an id, so it may be its table's key.

    >>> names_an_id("sbCustId"), names_an_id("uid"), names_an_id("name")
    (True, True, False)
    """
    parts = name_parts(column)
    return bool(parts) and parts[-1].endswith("id")


def infer_foreign_keys(
    columns: dict[str, list[str]], keys: dict[str, str | None]
) -> dict[str, list[ForeignKey]]:
    """Foreign keys by table, for a database that declares none.

    >>> infer_foreign_keys(
    ...     {"users": ["uid", "name"], "coupons": ["cid", "merchant_id"],
    ...      "merchants": ["mid"], "notes": ["id", "user_id"]},
    ...     {"users": "uid", "coupons": "cid", "merchants": "mid", "notes": "id"})
    {'coupons': [('merchant_id', 'merchants', 'mid')], 'notes': [('user_id', 'users', 'uid')]}
    """
    found: dict[str, list[ForeignKey]] = {}
    for table, names in columns.items():
        for column in names:
            if column == keys.get(table):
                continue
            targets = [
                (other, key)
                for other, key in keys.items()
                if key and other != table and refers_to(column, other, key)
            ]
            if len(targets) == 1:
                found.setdefault(table, []).append((column, *targets[0]))
    return found
