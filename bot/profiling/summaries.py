"""The agent's answers, validated: it runs inside a service the bot does not control, so every
field is bounded before anything reads it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Text = Annotated[str, Field(max_length=400)]
Count = Annotated[int, Field(ge=0)]
Rows = 60
MAX_FOLDED = 5000


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class FunctionRow(_Answer):
    name: Text
    script: Text
    line: Count
    samples: Count
    hot_line: Count | None = None


class FoldedSamples(_Answer):
    stack: Annotated[str, Field(max_length=20000)]
    samples: Count


class CpuSummary(_Answer):
    seconds: Annotated[float, Field(ge=0)]
    samples: Count
    idle_samples: Count = 0
    gc_samples: Count = 0
    top_self: Annotated[list[FunctionRow], Field(max_length=Rows)] = []
    top_total: Annotated[list[FunctionRow], Field(max_length=Rows)] = []
    top_application: Annotated[list[FunctionRow], Field(max_length=Rows)] = []
    folded: Annotated[list[FoldedSamples], Field(max_length=MAX_FOLDED)] = []


class SiteRow(_Answer):
    name: Text
    script: Text
    line: Count
    first_bytes: Count
    second_bytes: Count

    @property
    def growth(self) -> int:
        return self.second_bytes - self.first_bytes


class FoldedBytes(_Answer):
    stack: Annotated[str, Field(max_length=20000)]
    bytes: Count


class HeapSummary(_Answer):
    seconds: Annotated[float, Field(ge=0)]
    first_bytes: Count
    second_bytes: Count
    application_sites: Annotated[list[SiteRow], Field(max_length=Rows)] = []
    self_sites: Annotated[list[SiteRow], Field(max_length=Rows)] = []
    folded: Annotated[list[FoldedBytes], Field(max_length=MAX_FOLDED)] = []
