"""Keys inferred for defog's databases, which declare none: exactly the joins their gold
queries use, and none added to a database that declares its own."""

from pathlib import Path

from sqlalchemy import create_engine

from agents.sql.repair import repair
from services.catalog import catalog_from_engine, catalog_from_metadata
from services.db.models import Base

DEFOG = Path(__file__).resolve().parents[3] / "shared/eval-data/defog"


def _catalog(name: str):
    engine = create_engine(f"sqlite:///file:{DEFOG / name}?mode=ro&uri=true")
    try:
        return catalog_from_engine(engine)
    finally:
        engine.dispose()


def _keys(catalog):
    return {(t.name, *fk) for t in catalog.tables for fk in t.foreign_keys}


def test_broker_keys_follow_the_column_names():
    catalog = _catalog("broker.db")
    assert _keys(catalog) == {
        ("sbDailyPrice", "sbDpTickerId", "sbTicker", "sbTickerId"),
        ("sbTransaction", "sbTxCustId", "sbCustomer", "sbCustId"),
        ("sbTransaction", "sbTxTickerId", "sbTicker", "sbTickerId"),
    }


def test_ewallet_keys_name_the_referred_table():
    catalog = _catalog("ewallet.db")
    keys = _keys(catalog)
    assert ("coupons", "merchant_id", "merchants", "mid") in keys
    assert ("notifications", "user_id", "users", "uid") in keys
    assert ("wallet_transactions_daily", "coupon_id", "coupons", "cid") in keys
    # sender_id may name a user or a merchant (sender_type says which): no key is guessed
    assert not any(k[1] in ("sender_id", "receiver_id") for k in keys)


def test_inferred_keys_reach_the_prompt_and_the_repair():
    catalog = _catalog("broker.db")
    assert "FOREIGN KEY (sbDpTickerId) REFERENCES sbTicker(sbTickerId)" in catalog.ddl()
    repaired = repair(
        "SELECT MIN(sbDpClose) FROM sbDailyPrice WHERE sbTickerSymbol = 'VTI'", catalog
    )
    assert repaired is not None and "JOIN sbTicker" in repaired


def test_declared_keys_are_kept_as_declared(demo_engine):
    declared = _keys(catalog_from_metadata(Base.metadata))
    assert declared and _keys(catalog_from_engine(demo_engine)) == declared
