"""The base of every slo.yaml model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown keys are errors: a typo must never pass silently.

    Each model's validator is built when it first validates, not when its module is imported
    (``defer_build``): a run pays only for the models its slo.yaml uses.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, defer_build=True)
