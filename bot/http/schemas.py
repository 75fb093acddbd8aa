"""The JSON answers of the HTTP API, as models: handlers build them, /openapi.json shows them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, NonNegativeInt


class Problem(BaseModel):
    """Every error: what is wrong, and the field, header or path part it is about."""

    model_config = ConfigDict(extra="forbid")

    error: str
    field: str
    problem: str | None = None


class RejectedAlertAnswer(BaseModel):
    """An alert of the group that could not be read: its place, the bad field, the problem."""

    model_config = ConfigDict(extra="forbid")

    index: NonNegativeInt
    field: str
    problem: str


class AlertsAccepted(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["accepted"] = "accepted"
    source: str
    alerts: NonNegativeInt
    accepted: NonNegativeInt
    duplicates: NonNegativeInt
    truncated_alerts: NonNegativeInt
    rejected: list[RejectedAlertAnswer] = []


class Alive(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["alive"] = "alive"


class ReadinessAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["ready", "not ready"]
    reasons: list[str] = []
    notes: list[str] = []
