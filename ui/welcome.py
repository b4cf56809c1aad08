"""The welcome and starter questions each role sees on an empty conversation, read from
`welcome.yaml` beside this file (copy, not code: an operator edits it). Every role a person
can sign in with must have its entry.

>>> sorted(role.value for role in load_welcome())
['admin', 'customer', 'support']
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml
from pydantic import BaseModel, Field, model_validator

from services.identity import Role

WELCOME_FILE = Path(__file__).with_name("welcome.yaml")
PEOPLE = (Role.CUSTOMER, Role.SUPPORT, Role.ADMIN)  # a service signs in to no UI


class Starter(BaseModel):
    label: str = Field(min_length=1, max_length=40, description="The button's text.")
    message: str = Field(min_length=1, description="The question it asks.")


class RoleWelcome(BaseModel):
    welcome: str = Field(min_length=1, description="Markdown shown above the starters.")
    starters: list[Starter] = Field(min_length=1, max_length=6)


class Welcomes(BaseModel):
    roles: dict[Role, RoleWelcome]

    @model_validator(mode="after")
    def _every_person_welcomed(self) -> Welcomes:
        missing = [r.value for r in PEOPLE if r not in self.roles]
        if missing:
            raise ValueError(f"{WELCOME_FILE.name} has no entry for {', '.join(missing)}")
        return self


@cache
def load_welcome(path: Path = WELCOME_FILE) -> dict[Role, RoleWelcome]:
    return Welcomes(roles=yaml.safe_load(path.read_text(encoding="utf-8"))).roles
