"""The recorders in syndicate/metrics.py: labels as /metrics shows them."""

from __future__ import annotations

from pathlib import Path

from syndicate import metrics


def value(name: str, **labels: str) -> float:
    found = metrics.REGISTRY.get_sample_value(name, labels)
    return found or 0.0


def test_guard_reasons_keep_few_label_values() -> None:
    before = value("syndicate_guard_rejections_total", language="xx", engine="argos", reason="lost protected term")
    metrics.record_guard_rejection("xx", "argos", "lost protected term 'Security Council'")
    metrics.record_guard_rejection("xx", "argos", 'lost protected term "UN"')
    after = value("syndicate_guard_rejections_total", language="xx", engine="argos", reason="lost protected term")
    assert after - before == 2


def test_a_translate_unit_records_its_counts_and_speed(tmp_path: Path) -> None:
    """What Work.translate adds to the store's totals reaches the metrics, per engine."""
    from syndicate.config import load_settings
    from syndicate.store import Store
    from syndicate.translate.engines import Engines
    from syndicate.work import Work
    from tests.conftest import Clock, write_config
    from tests.fakes import FakeEngine, tagged

    settings = load_settings(write_config(tmp_path, languages=("yy",)))
    engine = FakeEngine("apertium", {("en", "yy")}, tagged)
    store = Store.open(settings.state_dir)
    try:
        work = Work(settings, store, Engines(settings, {"apertium": lambda _s: engine}), clock=Clock())
        work.poll("sample")
        before = value("syndicate_segments_translated_total", language="yy", engine="apertium")
        outcome = work.translate("yy")
    finally:
        store.close()
    assert outcome.segments_translated > 0
    after = value("syndicate_segments_translated_total", language="yy", engine="apertium")
    assert after - before == outcome.segments_translated
    assert value("syndicate_translation_segments_per_second", language="yy") > 0
    assert value("syndicate_translation_seconds_count", language="yy") >= 1


def test_polls_and_items() -> None:
    metrics.record_poll("zz", "partial", new=2, failed=1)
    assert value("syndicate_polls_total", source="zz", outcome="partial") == 1
    assert value("syndicate_items_total", source="zz", result="new") == 2
    assert value("syndicate_items_total", source="zz", result="failed") == 1
    assert value("syndicate_items_total", source="zz", result="updated") == 0
