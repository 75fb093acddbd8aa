"""What a profile found, as it appears in a triage report (`triage --json`) and the thread.

Names and script paths come from the profiled process: they are untrusted text, escaped
wherever they are rendered.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_serializer

ProfileKind = Literal["cpu", "heap"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Culprit(_Frozen):
    """A function that burnt CPU (`share` of the profile's samples) or an allocation site
    whose live memory grew (`bytes`) while the profile ran."""

    kind: Literal["function", "allocation"]
    name: str
    location: str  # "script:line"
    share: float | None = Field(default=None, ge=0.0, le=1.0)
    bytes: int | None = None

    @model_serializer(mode="wrap")
    def _without_unset_measure(self, handler: Any) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        return {key: value for key, value in data.items() if value is not None}


class ProfiledFunction(_Frozen):
    name: str
    location: str
    self_share: float
    total_share: float


class FlameStack(_Frozen):
    frames: tuple[str, ...]
    weight: int


class ProfileEvidence(_Frozen):
    """A capture's outcome: `captured` with its findings, or the reason it could not be."""

    kind: ProfileKind
    captured: bool
    reason: str = ""
    instance: str = ""
    seconds: float = 0.0
    samples: int = 0
    gc_share: float | None = None
    top_self: tuple[ProfiledFunction, ...] = ()
    top_total: tuple[ProfiledFunction, ...] = ()
    culprits: tuple[Culprit, ...] = ()
    flame: tuple[FlameStack, ...] = ()
    flame_unit: Literal["samples", "bytes"] = "samples"
