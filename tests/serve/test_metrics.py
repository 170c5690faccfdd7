"""The recorders in syndicate/metrics.py: labels as /metrics shows them."""

from __future__ import annotations

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


def test_stats_delta_counts_what_a_translate_stage_added() -> None:
    before = {("yy", "apertium"): {"translated": 10, "memory_hits": 2}}
    after = {("yy", "apertium"): {"translated": 25, "memory_hits": 7, "guard_failures": 1}, ("yy", "argos"): {"translated": 5}}
    metrics.record_stats_delta(before, after, 2.0)
    assert value("syndicate_segments_translated_total", language="yy", engine="apertium") == 15
    assert value("syndicate_segments_translated_total", language="yy", engine="argos") == 5
    assert value("syndicate_memory_hits_total", language="yy", engine="apertium") == 5
    assert value("syndicate_translation_segments_per_second", language="yy") == 10.0
    assert value("syndicate_translation_seconds_count", language="yy") == 1


def test_polls_and_items() -> None:
    metrics.record_poll("zz", "partial", new=2, failed=1)
    assert value("syndicate_polls_total", source="zz", outcome="partial") == 1
    assert value("syndicate_items_total", source="zz", result="new") == 2
    assert value("syndicate_items_total", source="zz", result="failed") == 1
    assert value("syndicate_items_total", source="zz", result="updated") == 0
