"""The routing policy: which provider serves a request, given the router's labels.

A policy is an ordered list of rules (`when` some labels, use a `provider`; the first rule that
matches wins), a `default` for requests no rule matches, a `fallback` section for when the
chosen provider is down, and the `evidence` thresholds that decide what a request is about.
The file format is documented in the packaged `policy.yaml` and in `agents/routing/ROUTING.md`.

The policy never overrides privacy. When a file is loaded, every combination of labels a
confidential request can carry is run through the rules; a rule (or a default) that would send
one of them to the cloud rejects the whole file, naming the rule. Fallback to the cloud never
applies to a confidential request either. (The provider layer refuses such a call anyway;
rejecting the file tells the operator at start-up rather than at the first refused request.)

>>> policy = load_routing_policy()
>>> policy.choose([QueryType.REASONING], Sensitivity.PUBLIC, Complexity.MODERATE).provider
'cloud'
>>> policy.choose([QueryType.REASONING], Sensitivity.CONFIDENTIAL, Complexity.COMPLEX).rule
"rule 1 'confidential requests stay local'"
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from agents.routing.labels import Complexity, QueryType
from agents.routing.yaml_file import read_yaml_model
from services.identity import Role
from services.llm.privacy import Sensitivity

PACKAGED_POLICY = Path(__file__).with_name("policy.yaml")

Provider = Literal["local", "cloud"]


class RoutingPolicyError(ValueError):
    """A policy file that cannot be read, is malformed, or would let confidential data out."""


class Condition(BaseModel):
    """Labels a rule matches: every key given must match, and a key matches when the request's
    label is one of those listed. A key left out matches anything."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    query_type: frozenset[QueryType] | None = Field(
        None, description="Matches when the request's type, or any of its parts' types, is listed."
    )
    sensitivity: frozenset[Sensitivity] | None = None
    complexity: frozenset[Complexity] | None = None
    role: frozenset[Role] | None = Field(None, description="The caller's role.")

    @field_validator("query_type", "sensitivity", "complexity", "role", mode="after")
    @classmethod
    def _not_empty(cls, value: frozenset | None) -> frozenset | None:
        if value is not None and not value:
            raise ValueError("lists no values; leave the key out to match any value")
        return value

    def matches(
        self,
        query_types: Collection[QueryType],
        sensitivity: Sensitivity,
        complexity: Complexity,
        role: Role,
    ) -> bool:
        return (
            (self.query_type is None or not self.query_type.isdisjoint(query_types))
            and (self.sensitivity is None or sensitivity in self.sensitivity)
            and (self.complexity is None or complexity in self.complexity)
            and (self.role is None or role in self.role)
        )

    def describe(self) -> str:
        parts = [
            f"{key} in [{', '.join(sorted(values))}]"
            for key, values in self.model_dump(exclude_none=True).items()
        ]
        return " and ".join(parts) or "any request"


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(None, description="Shown in the router's reasons.")
    when: Condition = Field(default_factory=Condition)
    provider: Provider


class Fallback(BaseModel):
    """What to do when the chosen provider is unavailable (its circuit is open, or it is not
    configured). A confidential request never falls back to the cloud, whatever this says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    local_unavailable: Literal["cloud", "none"] = Field(
        "none", description="'cloud': a request that is not confidential may use the cloud."
    )
    cloud_unavailable: Literal["local", "none"] = Field(
        "local", description="'local': a request meant for the cloud uses the local model."
    )


class EvidenceThresholds(BaseModel):
    """How strong the evidence of what the platform holds must be (`agents.routing.evidence`):
    cosine similarities (all-MiniLM-L6-v2), from -1 to 1."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    documents: float = Field(
        0.4,
        ge=-1.0,
        le=1.0,
        description="The best passage the caller may read is at least this similar: the "
        "documents speak of it.",
    )
    database: float = Field(
        0.33,
        ge=-1.0,
        le=1.0,
        description="The best table, column or semantic-model entry is at least this similar: "
        "the database holds it. Below it (and below `database_any_language`) the SQL agent "
        "declines.",
    )
    database_any_language: float = Field(
        0.84,
        ge=-1.0,
        le=1.0,
        description="The same in the multilingual model (multilingual-e5-small, whose unrelated "
        "texts still score about 0.78): a question in any language whose best entry reaches "
        "this is held by the database too.",
    )
    margin: float = Field(
        0.15,
        ge=0.0,
        le=2.0,
        description="A part worded as a data question goes to the documents when they speak "
        "of it at least this much more closely than the database does.",
    )


class PolicyChoice(BaseModel, frozen=True):
    provider: Provider
    rule: str = Field(description="Which rule decided, e.g. \"rule 2 'sql stays local'\".")
    fallback: Provider | None = Field(
        description="The provider to use when `provider` is unavailable; None: fail clearly."
    )


def _confidential_labels() -> Iterator[tuple[frozenset[QueryType], Complexity, Role]]:
    """Every (part types, complexity, role) a confidential request can carry."""
    types = list(QueryType)
    for size in range(1, len(types) + 1):
        for combination in itertools.combinations(types, size):
            for complexity, role in itertools.product(Complexity, Role):
                yield frozenset(combination), complexity, role


class RoutingPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1] = 1
    rules: list[Rule] = Field(default_factory=list)
    default: Provider = "local"
    fallback: Fallback = Field(default_factory=Fallback)
    evidence: EvidenceThresholds = Field(default_factory=EvidenceThresholds)

    @model_validator(mode="after")
    def _privacy_holds(self) -> RoutingPolicy:
        confidential = Sensitivity.CONFIDENTIAL
        for types, complexity, role in _confidential_labels():
            choice = self.choose(types, confidential, complexity, role)
            if choice.provider == "cloud":
                example = (
                    f"query_type={'+'.join(sorted(types))}, sensitivity=confidential, "
                    f"complexity={complexity}, role={role}"
                )
                raise ValueError(
                    f"{choice.rule} would send a confidential request to the cloud "
                    f"(e.g. {example}); put a rule sending confidential requests to local "
                    "before it, or add `sensitivity: [public, internal]` to its `when`"
                )
        return self

    def _label(self, index: int) -> str:
        name = self.rules[index].name
        return f"rule {index + 1}" + (f" '{name}'" if name else "")

    def choose(
        self,
        query_types: Collection[QueryType],
        sensitivity: Sensitivity,
        complexity: Complexity,
        role: Role = Role.CUSTOMER,
    ) -> PolicyChoice:
        """The first matching rule's provider (or the default), and the fallback for it."""
        provider, rule = self.default, "the default"
        for index, candidate in enumerate(self.rules):
            if candidate.when.matches(query_types, sensitivity, complexity, role):
                provider, rule = candidate.provider, self._label(index)
                break
        return PolicyChoice(
            provider=provider, rule=rule, fallback=self.fallback_for(provider, sensitivity)
        )

    def fallback_for(self, provider: Provider, sensitivity: Sensitivity) -> Provider | None:
        """
        >>> policy = RoutingPolicy(fallback={"local_unavailable": "cloud"})
        >>> policy.fallback_for("local", "internal"), policy.fallback_for("local", "confidential")
        ('cloud', None)
        """
        if provider == "local":
            allowed = sensitivity != Sensitivity.CONFIDENTIAL
            return "cloud" if self.fallback.local_unavailable == "cloud" and allowed else None
        return "local" if self.fallback.cloud_unavailable == "local" else None


def load_routing_policy(path: Path | None = None) -> RoutingPolicy:
    """Read and check a policy file; `None` reads the packaged one. Raises `RoutingPolicyError`
    naming the file and the problem.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile("w", suffix=".yaml") as f:
    ...     _ = f.write("rules:\\n  - when: {complexity: [complex]}\\n    provider: cloud\\n")
    ...     f.flush()
    ...     load_routing_policy(Path(f.name))
    Traceback (most recent call last):
    ...
    agents.routing.policy.RoutingPolicyError: ...: policy: rule 1 would send a confidential request to the cloud ...
    """  # noqa: E501
    path = PACKAGED_POLICY if path is None else Path(path)
    shape = "a mapping with `rules`, `default` and `fallback`"
    return read_yaml_model(path, RoutingPolicy, RoutingPolicyError, "routing policy", shape)
