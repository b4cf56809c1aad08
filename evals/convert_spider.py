"""Spider 1.0 dev as a golden JSONL set.

Each question of `dev.json` becomes one `GoldenQuestion` line: id `spider-dev-<index>` (its
position in dev.json), db `<db_id>/<db_id>.sqlite` relative to Spider's `database/` folder, the
gold `query`, and as category the Spider hardness (easy, medium, hard, extra).

Hardness is computed exactly as Spider's official `evaluation.py` (`Evaluator.eval_hardness`,
taoyds/spider and test-suite-sql-eval) does, from the parsed `sql` tree that dev.json carries with
every question: component1 counts WHERE, GROUP BY, ORDER BY, LIMIT, each joined table beyond the
first, each OR and each LIKE; component2 counts nested queries (in conditions) and set operations;
"others" counts more than one aggregate, more than one selected column, more than one WHERE
condition and more than one GROUP BY column. The official code's quirks are kept on purpose (it
checks a condition's NOT flag where it means to check its aggregate), so the buckets reproduce
the published dev split: 248 easy, 446 medium, 174 hard, 166 extra.

The generated file belongs in a folder the caller names (e.g. `var/golden/spider_dev.jsonl`)
and is never committed::

    python -m evals.convert_spider ../shared/eval-data/spider_dev var/golden/spider_dev.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from evals.golden import GoldenQuestion

WHERE_OPS = ("not", "between", "=", ">", "<", ">=", "<=", "!=", "in", "like", "is", "exists")
AGG_NONE = 0  # index of "none" in Spider's AGG_OPS ("none", "max", "min", "count", "sum", "avg")
LIKE = WHERE_OPS.index("like")

SqlTree = dict[str, Any]


def _count_agg(units: list) -> int:
    return sum(1 for unit in units if unit[0] != AGG_NONE)


def _conditions(sql: SqlTree) -> list:
    """Condition units of FROM ... ON, WHERE and HAVING (the even positions; odd ones are
    'and'/'or')."""
    return sql["from"]["conds"][::2] + sql["where"][::2] + sql["having"][::2]


def _nested(sql: SqlTree) -> list[SqlTree]:
    nested = [
        value
        for cond in _conditions(sql)
        for value in (cond[3], cond[4])
        if isinstance(value, dict)
    ]
    nested += [sql[op] for op in ("intersect", "except", "union") if sql[op] is not None]
    return nested


def _component1(sql: SqlTree) -> int:
    count = sum(bool(sql[key]) for key in ("where", "groupBy", "orderBy"))
    count += sql["limit"] is not None
    if sql["from"]["table_units"]:
        count += len(sql["from"]["table_units"]) - 1
    connectors = sql["from"]["conds"][1::2] + sql["where"][1::2] + sql["having"][1::2]
    count += connectors.count("or")
    count += sum(1 for cond in _conditions(sql) if cond[1] == LIKE)
    return count


def _others(sql: SqlTree) -> int:
    aggregates = _count_agg(sql["select"][1])
    aggregates += _count_agg(sql["where"][::2])
    aggregates += _count_agg(sql["groupBy"])
    if sql["orderBy"]:
        val_units = sql["orderBy"][1]
        aggregates += _count_agg(
            [unit[1] for unit in val_units if unit[1]] + [unit[2] for unit in val_units if unit[2]]
        )
    aggregates += _count_agg(sql["having"])
    return (
        (aggregates > 1)
        + (len(sql["select"][1]) > 1)
        + (len(sql["where"]) > 1)
        + (len(sql["groupBy"]) > 1)
    )


def spider_hardness(sql: SqlTree) -> str:
    """Spider's hardness bucket of a parsed query (the `sql` field of dev.json).

    >>> tree = {"from": {"table_units": [["table_unit", 1]], "conds": []},
    ...         "select": [False, [[3, [0, [0, 0, False], None]]]], "where": [], "groupBy": [],
    ...         "having": [], "orderBy": [], "limit": None, "intersect": None, "union": None,
    ...         "except": None}
    >>> spider_hardness(tree)  # SELECT count(*) FROM singer
    'easy'
    """
    comp1, comp2, others = _component1(sql), len(_nested(sql)), _others(sql)
    if comp1 <= 1 and others == 0 and comp2 == 0:
        return "easy"
    if (others <= 2 and comp1 <= 1 and comp2 == 0) or (comp1 <= 2 and others < 2 and comp2 == 0):
        return "medium"
    if (
        (others > 2 and comp1 <= 2 and comp2 == 0)
        or (2 < comp1 <= 3 and others <= 2 and comp2 == 0)
        or (comp1 <= 1 and others == 0 and comp2 <= 1)
    ):
        return "hard"
    return "extra"


def convert_spider(dev_json: Path, database_dir: Path, out: Path) -> int:
    """Write Spider dev as golden JSONL to `out`; return how many lines were written.

    Questions whose database file is missing under `database_dir` (wta_1 upstream) are skipped.
    """
    examples = json.loads(Path(dev_json).read_text(encoding="utf-8"))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with out.open("w", encoding="utf-8") as sink:
        for index, example in enumerate(examples):
            db = f"{example['db_id']}/{example['db_id']}.sqlite"
            if not (Path(database_dir) / db).is_file():
                continue
            question = GoldenQuestion(
                id=f"spider-dev-{index}",
                db=db,
                question=example["question"],
                gold_sql=example["query"].strip(),
                category=spider_hardness(example["sql"]),
            )
            sink.write(question.model_dump_json(exclude_defaults=True) + "\n")
            written += 1
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("spider_dir", type=Path, help="folder with dev.json and database/")
    parser.add_argument(
        "out", type=Path, help="JSONL file to write, e.g. var/golden/spider_dev.jsonl"
    )
    args = parser.parse_args(argv)
    written = convert_spider(args.spider_dir / "dev.json", args.spider_dir / "database", args.out)
    print(f"{written} questions written to {args.out}")


if __name__ == "__main__":
    main()
