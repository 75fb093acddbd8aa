"""Turn Prometheus HTTP API answers into the value types of `bot.sources.base`."""

from __future__ import annotations

from typing import Any

from bot.sources.base import InstantSample, MetricsUnavailable, RangeSeries


def instant_samples(data: Any) -> list[InstantSample]:
    """Samples from a `/api/v1/query` answer (vector or scalar)."""
    kind = _result_type(data)
    result = data["result"]
    if kind == "scalar":
        return [InstantSample(labels={}, value=sample_value(result))]
    if kind == "vector":
        return [
            InstantSample(labels=dict(item["metric"]), value=sample_value(item["value"]))
            for item in result
            if "value" in item  # native histograms carry "histogram" instead; not used here
        ]
    hint = "; drop the [range] selector" if kind == "matrix" else ""
    raise MetricsUnavailable(f"the query returned a {kind}, not an instant vector{hint}")


def range_series(data: Any) -> list[RangeSeries]:
    """Series from a `/api/v1/query_range` answer."""
    kind = _result_type(data)
    if kind != "matrix":
        raise MetricsUnavailable(f"the range query returned a {kind}, not a matrix")
    return [
        RangeSeries(
            labels=dict(item["metric"]),
            points=[(float(point[0]), sample_value(point)) for point in item.get("values", [])],
        )
        for item in data["result"]
    ]


def sample_value(pair: Any) -> float:
    """The value of a `[timestamp, "value"]` pair; `NaN`, `+Inf` and `-Inf` become floats."""
    try:
        return float(pair[1])
    except (TypeError, ValueError, IndexError) as error:
        raise MetricsUnavailable(
            f"Prometheus sent a sample that is not a number: {pair!r}"
        ) from error


def error_text(payload: Any) -> str | None:
    """Prometheus's own `errorType: error` text, when the body is an API error envelope."""
    if not isinstance(payload, dict) or payload.get("status") != "error":
        return None
    kind = str(payload.get("errorType") or "error")
    return f"{kind}: {payload.get('error') or 'no detail given'}"


def _result_type(data: Any) -> str:
    if not isinstance(data, dict) or "resultType" not in data or "result" not in data:
        raise MetricsUnavailable("Prometheus answered without a resultType/result in data")
    return str(data["resultType"])
