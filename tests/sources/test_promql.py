"""The builder must turn any label value into a query that parses back to that exact value."""

from __future__ import annotations

import re

import promql_parser
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.sources.promql import (
    Matcher,
    PromQLError,
    Selector,
    binary,
    duration,
    format_duration,
    go_quote,
    histogram_quantile,
    label_name,
    label_replace,
    matchers_from,
    metric_name,
    parse_duration,
    rate,
    re2_escape,
    render_template,
    sum_by,
    tagged_union,
    template_problems,
)

HOSTILE = [
    '"}',
    "\\",
    '\\"',
    "\n",
    "\x00",
    "é",
    "😀",
    "\u2028",
    "\x7f",
    "a|b",
    ".*",
    "${x}",
    "\ufeff",
]
hostile_text = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"), st.sampled_from(['"', "\\", "}", "\n", "\x00"])
    ),
    max_size=40,
)


def only_matcher(expr: str) -> tuple[str, object, str]:
    selector = promql_parser.parse(expr)
    assert isinstance(selector, promql_parser.VectorSelector)
    matchers = [m for m in selector.matchers.matchers if m.name != "__name__"]
    assert len(matchers) == 1
    return matchers[0].name, matchers[0].op, matchers[0].value


@given(hostile_text)
@example("")
def test_equality_matcher_value_round_trips_through_the_parser(value: str) -> None:
    for hostile in [value, *HOSTILE]:
        expr = str(Selector("up", (Matcher.eq("job", hostile),)))
        name, op, parsed_value = only_matcher(expr)
        assert (name, parsed_value) == ("job", hostile)
        assert op == promql_parser.MatchOp.Equal


@given(hostile_text)
def test_negative_matcher_round_trips(value: str) -> None:
    name, op, parsed_value = only_matcher(str(Selector("up", (Matcher.ne("job", value),))))
    assert (name, parsed_value) == ("job", value)
    assert op == promql_parser.MatchOp.NotEqual


@given(hostile_text)
def test_regex_matcher_matches_exactly_the_literal(value: str) -> None:
    expr = str(Selector("up", (Matcher.any_of("route", [value]),)))
    _, op, parsed_value = only_matcher(expr)
    assert parsed_value == re2_escape(value)
    assert op == promql_parser.MatchOp.Re
    assert re.fullmatch(parsed_value, value, flags=re.DOTALL)
    assert not re.fullmatch(parsed_value, value + "x", flags=re.DOTALL)


@given(hostile_text, hostile_text)
def test_any_of_matches_each_value_and_nothing_longer(first: str, second: str) -> None:
    _, _, pattern = only_matcher(str(Selector("up", (Matcher.any_of("x", [first, second]),))))
    for value in (first, second):
        assert re.fullmatch(pattern, value, flags=re.DOTALL)
    if first + second not in (first, second):
        assert not re.fullmatch(pattern, first + second, flags=re.DOTALL)


@given(hostile_text)
def test_built_functions_parse_with_hostile_values(value: str) -> None:
    buckets = Selector("http_request_duration_seconds_bucket", matchers_from({"job": value}))
    queries = [
        histogram_quantile(0.99, buckets, "5m", by=("route",)),
        binary(sum_by(rate(buckets, "1m")), "/", sum_by(rate(buckets, 60))),
        render_template("sum(rate(x_total{$selector}[$window]))", buckets.matchers, "2m"),
    ]
    for query in queries:
        promql_parser.parse(str(query))


def test_go_quote_uses_escapes_for_control_characters() -> None:
    assert go_quote('a"b\\c\n\x00\x7f\u2028é') == '"a\\"b\\\\c\\n\\x00\\x7f\\u2028é"'


def test_re2_escape_escapes_only_metacharacters() -> None:
    assert (
        re2_escape("a.b*c(d)|[e]{f}^$+?\\-/ é")
        == "a\\.b\\*c\\(d\\)\\|\\[e\\]\\{f\\}\\^\\$\\+\\?\\\\-/ é"
    )


def test_lone_surrogate_is_refused() -> None:
    with pytest.raises(PromQLError, match="surrogate"):
        go_quote("\ud800")


@pytest.mark.parametrize("bad", ["", "1abc", "a-b", "a b", "é", 'x"'])
def test_invalid_label_names_are_refused(bad: str) -> None:
    with pytest.raises(PromQLError, match="label name"):
        label_name(bad)
    with pytest.raises(PromQLError):
        Matcher.eq(bad, "v")


@pytest.mark.parametrize("good", ["up", "a:b_c", "_x", "nodejs_heap_size_used_bytes"])
def test_valid_metric_names_pass(good: str) -> None:
    assert metric_name(good) == good


@pytest.mark.parametrize("bad", ["", "9up", "a-b", "up{}", "up)"])
def test_invalid_metric_names_are_refused(bad: str) -> None:
    with pytest.raises(PromQLError, match="metric name"):
        Selector(bad)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5m", 300), ("1h30m", 5400), ("250ms", 0.25), ("1d", 86400), ("2w", 1_209_600)],
)
def test_durations_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "5", "m5", "1.5m", "-5m", "0s", "5 m", "5m)"])
def test_bad_durations_are_refused(bad: str) -> None:
    with pytest.raises(PromQLError):
        duration(bad)


@given(st.integers(min_value=1, max_value=10**9))
def test_formatted_durations_parse_back(millis: int) -> None:
    text = format_duration(millis / 1000)
    assert parse_duration(text) == pytest.approx(millis / 1000)
    assert promql_parser.parse_duration(text).total_seconds() == pytest.approx(millis / 1000)


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), 0.0001])
def test_bad_duration_seconds_are_refused(bad: float) -> None:
    with pytest.raises(PromQLError):
        format_duration(bad)


def test_quantile_out_of_range_is_refused() -> None:
    with pytest.raises(PromQLError, match="quantile"):
        histogram_quantile(1.5, Selector("x_bucket"), "1m")


def test_template_substitutes_selector_and_window() -> None:
    expr = render_template(
        'sum(rate(orders_total{$selector, code=~"5.."}[$window]))',
        matchers_from({"job": "checkout", "env": "prod"}),
        "90s",
    )
    assert str(expr) == 'sum(rate(orders_total{env="prod",job="checkout", code=~"5.."}[1m30s]))'


def test_template_refuses_unknown_placeholders() -> None:
    assert template_problems("rate(x{$selectr}[$window])") == (
        "unknown placeholder $selectr; only $selector and $window are substituted"
    )
    with pytest.raises(PromQLError, match="selectr"):
        render_template("rate(x{$selectr}[5m])", (), "1m")
    assert template_problems("  ") == "expression is empty"


@given(hostile_text)
def test_tagged_union_parses_and_carries_each_key(key: str) -> None:
    up = Selector("up", matchers_from({"job": "a"}))
    union = tagged_union({key: up.expr(), "second": 'max(up{job="b"})'}, "__tag__")
    parsed = promql_parser.parse(str(union))
    assert isinstance(parsed, promql_parser.BinaryExpr)
    assert str(union).count("label_replace((") == 2
    assert go_quote(key) in str(union)


def test_label_replace_refuses_a_bad_target_label_and_an_empty_union() -> None:
    with pytest.raises(PromQLError):
        label_replace("up", "bad-label", "x")
    with pytest.raises(PromQLError, match="nothing to join"):
        tagged_union({}, "__tag__")
