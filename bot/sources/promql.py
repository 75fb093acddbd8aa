"""A small typed PromQL builder: every label value is quoted by code, never pasted in.

    >>> sel = Selector("req_seconds_bucket", (Matcher.eq("job", 'we"ird'),))
    >>> str(histogram_quantile(0.99, sel, "5m"))
    'histogram_quantile(0.99, sum by (le) (rate(req_seconds_bucket{job="we\\\\"ird"}[5m])))'

Service-specific expressions from the catalog are templates: `$selector` becomes the service's
matchers (comma-separated, without braces) and `$window` the rate window, e.g.
`sum(rate(orders_total{$selector, status=~"5.."}[$window]))`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
_DURATION = re.compile(r"(?:\d+(?:ms|s|m|h|d|w|y))+\Z")
_DURATION_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNIT_SECONDS = {"y": 31_536_000, "w": 604_800, "d": 86_400, "h": 3600, "m": 60, "s": 1}
_RE2_META = frozenset("\\.+*?()|[]{}^$")
_GO_SHORT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_TEMPLATE_TOKEN = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
TEMPLATE_PLACEHOLDERS = frozenset({"selector", "window"})


class PromQLError(ValueError):
    """A name, duration, value or template that cannot be turned into valid PromQL."""


def go_quote(value: str) -> str:
    """Quote `value` as a PromQL (Go syntax) double-quoted string literal."""
    return '"' + "".join(_go_escape_char(char) for char in value) + '"'


def _go_escape_char(char: str) -> str:
    if char in _GO_SHORT_ESCAPES:
        return _GO_SHORT_ESCAPES[char]
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        raise PromQLError(f"label value holds a lone surrogate U+{code:04X}, which is not UTF-8")
    if code < 0x80:
        return char if char.isprintable() else f"\\x{code:02x}"
    if unicodedata.category(char).startswith("C") or not char.isprintable():
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    return char


def re2_escape(literal: str) -> str:
    """Escape every RE2 metacharacter so the pattern matches `literal` exactly."""
    return "".join("\\" + char if char in _RE2_META else char for char in literal)


def label_name(name: str) -> str:
    if not LABEL_NAME.match(name):
        raise PromQLError(
            f"{name!r} is not a valid label name (letters, digits, _; not first digit)"
        )
    return name


def metric_name(name: str) -> str:
    if not METRIC_NAME.match(name):
        raise PromQLError(f"{name!r} is not a valid metric name (letters, digits, _ and :)")
    return name


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration such as `5m`, `1h30m` or `250ms`."""
    if not _DURATION.match(text):
        raise PromQLError(f"{text!r} is not a duration like 30s, 5m, 1h30m")
    seconds = 0.0
    for amount, unit in _DURATION_PART.findall(text):
        seconds += int(amount) / 1000 if unit == "ms" else int(amount) * _UNIT_SECONDS[unit]
    if seconds <= 0:
        raise PromQLError(f"duration {text!r} must be longer than zero")
    return seconds


def format_duration(seconds: float) -> str:
    """The shortest Prometheus duration for `seconds` (whole milliseconds), e.g. 5400 -> `1h30m`."""
    if not math.isfinite(seconds) or seconds <= 0:
        raise PromQLError(f"duration must be a positive number of seconds, got {seconds}")
    millis = round(seconds * 1000)
    if millis == 0:
        raise PromQLError(f"duration {seconds}s is shorter than a millisecond")
    whole, rest_ms = divmod(millis, 1000)
    parts = []
    for unit in ("d", "h", "m", "s"):
        amount, whole = divmod(whole, _UNIT_SECONDS[unit])
        if amount:
            parts.append(f"{amount}{unit}")
    if rest_ms:
        parts.append(f"{rest_ms}ms")
    return "".join(parts)


def duration(value: str | float) -> str:
    """Validate a duration given as text (`5m`) or seconds (300) and return its PromQL form."""
    return format_duration(parse_duration(value) if isinstance(value, str) else value)


class MatchOp(StrEnum):
    EQ = "="
    NE = "!="
    RE = "=~"
    NOT_RE = "!~"


@dataclass(frozen=True)
class Matcher:
    """One label matcher. Build with the class methods so values are always escaped."""

    name: str
    op: MatchOp
    pattern: str

    def __post_init__(self) -> None:
        label_name(self.name)

    @classmethod
    def eq(cls, name: str, value: str) -> Matcher:
        return cls(name, MatchOp.EQ, value)

    @classmethod
    def ne(cls, name: str, value: str) -> Matcher:
        return cls(name, MatchOp.NE, value)

    @classmethod
    def any_of(cls, name: str, values: Iterable[str], *, negate: bool = False) -> Matcher:
        """`name=~"a|b"` matching exactly the given literal values (regex-escaped)."""
        alternatives = "|".join(re2_escape(value) for value in values)
        return cls(name, MatchOp.NOT_RE if negate else MatchOp.RE, alternatives)

    @classmethod
    def regex(cls, name: str, pattern: str, *, negate: bool = False) -> Matcher:
        """A regex written in code (such as `5..`); use `any_of` for values from outside."""
        return cls(name, MatchOp.NOT_RE if negate else MatchOp.RE, pattern)

    def __str__(self) -> str:
        return f"{self.name}{self.op.value}{go_quote(self.pattern)}"


def matchers_from(labels: Mapping[str, str]) -> tuple[Matcher, ...]:
    """Equality matchers for a label mapping, in a stable order."""
    return tuple(Matcher.eq(name, value) for name, value in sorted(labels.items()))


@dataclass(frozen=True)
class Expr:
    """Rendered PromQL. Only this module's builders should create one."""

    text: str
    compound: bool = False  # a binary operation: needs parentheses inside another one

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Selector:
    metric: str | None
    matchers: tuple[Matcher, ...] = ()

    def __post_init__(self) -> None:
        if self.metric is not None:
            metric_name(self.metric)
        elif not self.matchers:
            raise PromQLError("a selector needs a metric name or at least one matcher")

    def where(self, *extra: Matcher) -> Selector:
        return Selector(self.metric, self.matchers + extra)

    def named(self, metric: str) -> Selector:
        return Selector(metric, self.matchers)

    def expr(self) -> Expr:
        inner = ",".join(str(matcher) for matcher in self.matchers)
        name = self.metric or ""
        return Expr(f"{name}{{{inner}}}" if inner or not name else name)

    def __str__(self) -> str:
        return self.expr().text


def _as_expr(value: Expr | Selector) -> Expr:
    return value.expr() if isinstance(value, Selector) else value


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def rate(selector: Selector, window: str | float, *, fn: str = "rate") -> Expr:
    if fn not in {"rate", "irate", "increase"}:
        raise PromQLError(f"{fn!r} is not a range function this builder knows")
    return Expr(f"{fn}({selector}[{duration(window)}])")


def aggregate(op: str, inner: Expr | Selector, by: Sequence[str] = ()) -> Expr:
    if op not in {"sum", "max", "min", "avg", "count"}:
        raise PromQLError(f"{op!r} is not an aggregation this builder knows")
    grouping = f" by ({', '.join(label_name(name) for name in by)})" if by else ""
    return Expr(f"{op}{grouping} ({_as_expr(inner)})")


def sum_by(inner: Expr | Selector, by: Sequence[str] = ()) -> Expr:
    return aggregate("sum", inner, by)


def max_by(inner: Expr | Selector, by: Sequence[str] = ()) -> Expr:
    return aggregate("max", inner, by)


def topk(count: int, inner: Expr | Selector) -> Expr:
    if count < 1:
        raise PromQLError(f"topk needs a count of 1 or more, got {count}")
    return Expr(f"topk({count}, {_as_expr(inner)})")


def histogram_quantile(
    quantile: float, buckets: Selector, window: str | float, by: Sequence[str] = ()
) -> Expr:
    """`histogram_quantile(q, sum by (le, ...) (rate(buckets[window])))`."""
    if not 0 <= quantile <= 1:
        raise PromQLError(f"quantile must be between 0 and 1, got {quantile}")
    grouped = sum_by(rate(buckets, window), ("le", *by))
    return Expr(f"histogram_quantile({_number(quantile)}, {grouped})")


def binary(left: Expr | Selector, op: str, right: Expr | Selector | float) -> Expr:
    if op not in {"+", "-", "*", "/", "or", "and", "unless"}:
        raise PromQLError(f"{op!r} is not a binary operator this builder knows")
    rhs = _number(right) if isinstance(right, int | float) else _operand(_as_expr(right))
    return Expr(f"{_operand(_as_expr(left))} {op} {rhs}", compound=True)


def _operand(expr: Expr) -> str:
    return f"({expr})" if expr.compound else expr.text


def scaled(inner: Expr, factor: float) -> Expr:
    """`inner` multiplied by a constant, e.g. milliseconds to seconds; no-op for 1."""
    return inner if factor == 1 else binary(inner, "*", factor)


def label_replace(
    inner: Expr | str, target: str, replacement: str, source: str = "", regex: str = ""
) -> Expr:
    """`label_replace(inner, target, replacement, source, regex)`; all strings quoted here.

    `inner` may be rendered PromQL text (an operator template already expanded, say).
    """
    text = inner.text if isinstance(inner, Expr) else inner
    args = ", ".join(go_quote(value) for value in (label_name(target), replacement, source, regex))
    return Expr(f"label_replace(({text}), {args})")


def tagged_union(parts: Mapping[str, Expr | str], tag: str) -> Expr:
    """One `or`-joined expression whose series carry their part's key in the `tag` label.

    Lets several expressions travel in one request; split the answer back by `tag`.
    """
    if not parts:
        raise PromQLError("nothing to join: no expressions given")
    tagged = [label_replace(expr, tag, key) for key, expr in parts.items()]
    return Expr(" or ".join(part.text for part in tagged), compound=len(tagged) > 1)


def render_template(template: str, matchers: Sequence[Matcher], window: str | float) -> Expr:
    """Expand `$selector` and `$window` in an operator-written expression."""
    unknown = template_problems(template)
    if unknown:
        raise PromQLError(unknown)
    values = {
        "selector": ",".join(str(matcher) for matcher in matchers),
        "window": duration(window),
    }
    expanded = _TEMPLATE_TOKEN.sub(lambda match: values[match.group(1)], template)
    return Expr(expanded, compound=True)  # unknown shape: parenthesise when combined


def template_problems(template: str) -> str | None:
    """Why a template cannot be expanded, or None when it can."""
    if not template.strip():
        return "expression is empty"
    unknown = sorted(set(_TEMPLATE_TOKEN.findall(template)) - TEMPLATE_PLACEHOLDERS)
    if unknown:
        names = ", ".join(f"${name}" for name in unknown)
        return f"unknown placeholder {names}; only $selector and $window are substituted"
    return None
