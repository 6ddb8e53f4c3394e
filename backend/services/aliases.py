"""Aliases: `name@alias` names one version of a model; moving it is one row update."""

from __future__ import annotations

from backend.errors import ModelNotTrained
from backend.schemas.models import ModelInfo
from backend.services.loaded_set import LoadedSet
from backend.services.registry import ModelRegistry


class Aliases:
    def __init__(self, registry: ModelRegistry, loaded_set: LoadedSet) -> None:
        self.registry = registry
        self.loaded_set = loaded_set

    def promote(self, model_ref: str, alias: str) -> ModelInfo:
        row = self.registry.row(model_ref)
        if row.status != "trained":
            raise ModelNotTrained(f"model {row.id} is {row.status}; only trained models promote")
        previous = self.registry.alias_target(row.name, alias)
        if (
            previous is not None
            and previous != row.id
            and not row.loaded
            and self.registry.row(previous).loaded
        ):
            self.loaded_set.load(row.id)  # the alias was serving: keep it serving through
        self.registry.set_alias(row.name, alias, row.id)
        return self.registry.get(row.id)
