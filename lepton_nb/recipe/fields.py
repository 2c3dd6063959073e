"""Field metadata of recipe sections: one source for validation, the command line and the studio's forms."""

from __future__ import annotations

import copy
import dataclasses
import functools
import typing
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Names(Sequence[str], Generic[T]):
    """The names of a table whose entry passes ``test``, read live (an entry registered later is in it): what a
    field's ``choices`` or ``applies_to`` hold where they follow a table. A sequence, in the table's order."""

    def __init__(self, table: Mapping[str, T], test: Callable[[T], bool] | None = None,
                 first: tuple[str, ...] = ()):
        self.table, self.first = table, first  # ``first``: names before the table's (e.g. auto)
        self.test: Callable[[T], bool] = test if test is not None else _every

    def __iter__(self) -> Iterator[str]:
        yield from self.first
        yield from (name for name, entry in list(self.table.items()) if self.test(entry))

    def __contains__(self, name: object) -> bool:
        return name in self.first or (isinstance(name, str) and name in self.table and self.test(self.table[name]))

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __getitem__(self, index: Any) -> Any:
        return tuple(self)[index]

    def __repr__(self) -> str:
        return repr(tuple(self))


def _every(entry: object) -> bool:
    return True


def setting(
    default: Any,
    help: str,
    *,
    min: float | None = None,
    max: float | None = None,
    choices: Collection[str] | None = None,
    label: str | None = None,
    log: bool = False,
    applies_to: Collection[str] | None = None,
    item_choices: Collection[str] | None = None,
    choice_labels: dict[str, str] | None = None,
    affects_training: bool = True,
) -> Any:
    """A dataclass field with the metadata forms and validation read.

    ``applies_to`` names the data kinds or architectures a field matters for, so a form can hide it (a whole
    section too). Names that follow a table (architectures, ops, methods) are given as a live `Names` view of it.
    ``choice_labels`` gives choices words a newcomer reads (the choice itself stays the value and is named on
    hover). ``affects_training=False`` marks what cannot change the trained weights or the curves (how a run is
    named, evaluated, explained or searched), so comparisons of runs leave it out.
    """
    meta = {
        "help": help,
        "min": min,
        "max": max,
        "choices": choices,
        "label": label,
        "log": log,
        "applies_to": applies_to,
        "item_choices": item_choices,
        "choice_labels": choice_labels,
        "affects_training": affects_training,
    }
    if isinstance(default, (list, dict)) or dataclasses.is_dataclass(default):
        return field(default_factory=functools.partial(copy.deepcopy, default), metadata=meta)
    return field(default=default, metadata=meta)


def describe_fields(section: Any) -> list[dict[str, Any]]:
    """Field name, type, default and metadata of a section: what form builders need."""
    hints = typing.get_type_hints(type(section) if not isinstance(section, type) else section)
    out = []
    for f in dataclasses.fields(section):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:  # every recipe field has a default; a hand-made section might not
            default = None
        out.append({"name": f.name, "type": hints[f.name], "default": default, **f.metadata})
    return out

