"""Which functions a CPU profile names: the floor is a share of the time spent running code."""

from __future__ import annotations

from bot.profiling.culprits import cpu_culprits
from bot.profiling.summaries import CpuSummary, FunctionRow


def summary(
    app_samples: int, gc_samples: int, idle_samples: int, runtime_samples: int = 0
) -> CpuSummary:
    row = FunctionRow(name="churnBatches", script="/srv/app.js", line=12, samples=app_samples)
    return CpuSummary(
        seconds=2,
        samples=app_samples + gc_samples + idle_samples + runtime_samples,
        idle_samples=idle_samples,
        gc_samples=gc_samples,
        top_application=[row],
    )


def test_the_allocating_function_is_named_when_gc_takes_most_samples() -> None:
    # 3 % of all samples, but a third of the time the process ran code of its own.
    named = cpu_culprits(summary(app_samples=30, gc_samples=60, idle_samples=910))
    assert [c.name for c in named] == ["churnBatches"]
    assert named[0].share == 0.03


def test_a_function_with_little_of_the_working_time_is_not_named() -> None:
    # 4 of the 400 samples spent running code (1 %); the rest of that time is runtime code.
    quiet = summary(app_samples=4, gc_samples=50, idle_samples=600, runtime_samples=396)
    assert cpu_culprits(quiet) == ()
