"""Settings with a fixed set of values (retrieval modes, fusion methods, backends)."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from kgrag.core.errors import ConfigError

E = TypeVar("E", bound=StrEnum)


def parse_choice(kind: type[E], value: str, label: str) -> E:
    """`value` as a member of `kind`, case-insensitively; an unknown value is a
    ConfigError that says what `label` was expected and lists the valid ones."""
    try:
        return kind(value.strip().lower())
    except ValueError:
        names = ", ".join(member.value for member in kind)
        raise ConfigError(f"unknown {label} {value!r}: use one of {names}") from None
