"""Per-tier order limits and the commission schedule, read from a small YAML file.

The packaged `policy.yaml` carries the firm's published fee schedule; `TRADING_POLICY_FILE`
points at an operator's copy. Kept out of `Settings` because it is a table, not a switch.

>>> policy = load_trading_policy()
>>> policy.commission("equity", "standard", "market", quantity=10, notional=1500.0)
1.0
>>> policy.commission("equity", "vip", "market", quantity=1000, notional=150000.0)
2.0
>>> policy.commission("crypto", "gold", "limit", quantity=1, notional=10000.0)
15.0
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

PACKAGED_POLICY = Path(__file__).with_name("policy.yaml")

Tier = Literal["standard", "silver", "gold", "vip"]
AssetClass = Literal["equity", "crypto"]


class TierLimits(BaseModel, frozen=True):
    max_order_notional: float = Field(gt=0, description="Most one order may cost or raise.")
    max_quantity: float = Field(gt=0, description="Most units one order may be for.")


class EquityFee(BaseModel, frozen=True):
    per_share: float = Field(ge=0, description="Commission per share (or unit) filled.")
    minimum: float = Field(ge=0, description="Least commission charged on an order's fill.")


class CryptoFee(BaseModel, frozen=True):
    taker_percent: float = Field(ge=0, le=100, description="Market and stop orders, % notional.")
    maker_percent: float = Field(ge=0, le=100, description="Resting limit orders, % notional.")
    minimum: float = Field(ge=0, description="Least commission charged on a fill.")


class FeeSchedule(BaseModel, frozen=True):
    equity: dict[Tier, EquityFee] = Field(description="Equity commission by customer tier.")
    crypto: CryptoFee = Field(description="Crypto commission, the same for every tier.")


class TradingPolicy(BaseModel, frozen=True):
    tiers: dict[Tier, TierLimits] = Field(description="Order limits by customer tier.")
    fees: FeeSchedule

    def limits(self, tier: str) -> TierLimits:
        """An unknown tier gets the standard (smallest) limits: fail closed."""
        return self.tiers.get(tier, self.tiers["standard"])  # type: ignore[call-overload]

    def commission(
        self,
        asset_class: str,
        tier: str,
        order_type: str,
        *,
        quantity: float,
        notional: float,
        filled_before: float = 0.0,
        charged: float = 0.0,
    ) -> float:
        """What one fill costs in commission, rounded to the cent. Crypto's minimum is per
        fill; equities' is per order, so a later fill of an order that has already paid
        `charged` on `filled_before` units pays only what the whole order's commission adds.

        >>> load_trading_policy().commission(
        ...     "equity", "standard", "limit", quantity=300, notional=3e4,
        ...     filled_before=100, charged=1.0)
        1.0
        """
        if asset_class == "crypto":
            fee = self.fees.crypto
            percent = fee.maker_percent if order_type == "limit" else fee.taker_percent
            return round(max(fee.minimum, notional * percent / 100), 2)
        equity = self.fees.equity.get(tier, self.fees.equity["standard"])  # type: ignore[call-overload]
        whole = max(equity.minimum, (filled_before + quantity) * equity.per_share)
        return round(max(0.0, whole - charged), 2)


class TradingPolicyError(RuntimeError):
    """The policy file cannot be read or is invalid; the message names the file and the field."""


def load_trading_policy(path: Path | None = None) -> TradingPolicy:
    path = PACKAGED_POLICY if path is None else Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        policy = TradingPolicy.model_validate(data)
    except OSError as exc:
        raise TradingPolicyError(f"{path}: cannot read the trading policy: {exc}") from exc
    except yaml.YAMLError as exc:
        raise TradingPolicyError(f"{path}: not valid YAML: {exc}") from exc
    except ValidationError as exc:
        raise TradingPolicyError(f"{path}: {exc}") from exc
    missing = {"standard", "silver", "gold", "vip"} - set(policy.tiers)
    if missing or "standard" not in policy.fees.equity:
        raise TradingPolicyError(
            f"{path}: every tier needs limits (missing: {', '.join(sorted(missing)) or 'none'}) "
            "and the equity fees need at least the standard tier"
        )
    return policy
