"""RunReport: what a run did, added up across sources and units of work."""

from __future__ import annotations

import pytest


def test_run_reports_add_their_counts_whatever_the_annotations_are(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 22: the sum picked the count fields by `f.type == "int"`, the annotation as a
    # string; without `from __future__ import annotations` it is the class, and every
    # count silently became 0.
    import dataclasses

    from syndicate.models import Problem, RunReport

    real = dataclasses.fields

    def evaluated(obj: object) -> tuple[dataclasses.Field[object], ...]:
        out = []
        for f in real(obj):  # type: ignore[arg-type]
            g = dataclasses.field()
            g.name, g.type = f.name, {"int": int}.get(f.type, f.type) if isinstance(f.type, str) else f.type
            out.append(g)
        return tuple(out)

    monkeypatch.setattr("syndicate.models.fields", evaluated)
    total = RunReport(items_seen=2, translations_written=3) + RunReport(items_seen=5, files_written=1)
    assert (total.items_seen, total.translations_written, total.files_written) == (7, 3, 1)
    problem = Problem("fetch", "timed out", source="harbour")
    both = RunReport(problems=(problem,)) + RunReport(problems=(problem,))
    assert both.problems == (problem,)  # each problem listed once
