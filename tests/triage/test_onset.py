"""When a signal moved in the window."""

from __future__ import annotations

from bot.models import SeriesPoint
from bot.triage.onset import onset, order_sentence


def points(values: list[float]) -> list[SeriesPoint]:
    return [SeriesPoint(t=15.0 * i, v=v) for i, v in enumerate(values)]


def test_a_step_up_moves_where_it_crosses_half_way() -> None:
    assert onset(points([1, 1, 1, 1, 1, 1, 9, 10, 10, 10])) == 90.0


def test_a_signal_high_from_the_start_or_flat_has_no_onset() -> None:
    assert onset(points([10, 10, 11, 10, 10, 10, 10, 10])) is None
    assert onset(points([0.0] * 8)) is None
    assert onset(points([1, 2, 3])) is None  # too short to tell


def test_the_sentence_says_which_moved_first() -> None:
    assert order_sentence(("GC time", 0.0), ("event-loop lag", 60.0)) == (
        " GC time moved first; event-loop lag followed 60 s later."
    )
    assert order_sentence(("the heap", 100.0), ("GC time", 10.0)) == (
        " GC time moved first, 90 s before the heap."
    )
    assert order_sentence(("x", 0.0), ("y", 15.0)) == " X and y moved together."
    assert order_sentence(("x", None), ("y", 15.0)) == ""
