"""The Celery configuration, routes, queues and RedBeat entries derived from the settings
(no server needed)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from celery.schedules import crontab, schedule

from syndicate.cluster.app import celery_config, route_task
from syndicate.cluster.queues import parse_queues, worker_queues
from syndicate.cluster.schedule import beat_schedule, cron_schedules
from syndicate.config import load_settings
from syndicate.errors import ConfigError
from tests.cluster.harness import cluster_config


def settings_for(tmp_path: Path, **kwargs: object):  # type: ignore[no-untyped-def]
    return load_settings(cluster_config(tmp_path, generated=0, **kwargs))  # type: ignore[arg-type]


def test_nothing_lost_nothing_twice_settings(tmp_path: Path) -> None:
    conf = celery_config(
        settings_for(
            tmp_path, broker_url="redis://127.0.0.1:1/0", store_url=None, visibility_timeout="2h", task_time_limit="1h"
        )
    )
    assert conf["task_acks_late"] is True
    assert conf["task_reject_on_worker_lost"] is True
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["broker_transport_options"]["visibility_timeout"] == 7200 > conf["task_time_limit"] == 3600
    assert conf["task_soft_time_limit"] < conf["task_time_limit"]
    assert conf["task_serializer"] == "json" and conf["accept_content"] == ["json"]
    assert conf["beat_scheduler"] == "syndicate.cluster.beat:SteadyScheduler"
    assert conf["redbeat_redis_url"] == "redis://127.0.0.1:1/0"
    # kombu sweeps for dead workers' tasks well within the visibility timeout.
    options = conf["broker_transport_options"]
    assert options["unacked_restore_interval"] * options["unacked_restore_throttle"] <= 10


def test_no_broker_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cluster\.broker_url"):
        celery_config(settings_for(tmp_path, broker_url=None, store_url=None))


def test_routes() -> None:
    assert route_task("syndicate.poll", ("sample",), {}, {}) == {"queue": "poll"}
    assert route_task("syndicate.translate", ([1, 2], "ca", None), {}, {}) == {"queue": "translate.ca"}
    assert route_task("syndicate.translate", (), {"article_ids": [1], "language": "es"}, {}) == {
        "queue": "translate.es"
    }
    assert route_task("syndicate.publish", ("es",), {}, {}) == {"queue": "publish"}
    assert route_task("syndicate.sweep", (), {}, {}) == {"queue": "poll"}
    assert route_task("other", (), {}, {}) is None


def test_worker_queues() -> None:
    assert worker_queues(["es", "ca"]) == ["poll", "translate.es", "translate.ca", "publish"]
    assert parse_queues("translate,publish", ["es", "ca"]) == ["translate.es", "translate.ca", "publish"]
    assert parse_queues("poll, translate.gl", ["es"]) == ["poll", "translate.gl"]
    with pytest.raises(ValueError, match="unknown queue 'pol'"):
        parse_queues("pol", ["es"])


def test_one_entry_per_source_in_config_order_due_at_once(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, broker_url="redis://127.0.0.1:1/0", store_url=None, interval="15m")
    entries = beat_schedule(settings)
    assert list(entries) == ["poll:000:sample", "sweep"]
    assert entries["sweep"]["task"] == "syndicate.sweep" and "last_run_at" not in entries["sweep"]
    entry = entries["poll:000:sample"]
    assert entry["task"] == "syndicate.poll" and entry["args"] == ("sample",)
    assert isinstance(entry["schedule"], schedule) and entry["schedule"].run_every == timedelta(minutes=15)
    assert entry["options"] == {"queue": "poll", "expires": 900.0}
    assert entry["schedule"].is_due(entry["last_run_at"]).is_due  # never run: due now


def test_cron_lines_keep_crons_meaning() -> None:
    [only] = cron_schedules("*/10 6-18 * * 1-5").values()
    assert only == crontab(minute="*/10", hour="6-18", day_of_week="mon,tue,wed,thu,fri")
    # 0 and 7 are both Sunday.
    assert cron_schedules("0 0 * * 7")[""] == crontab(minute="0", hour="0", day_of_week="sun")
    # Day of month and weekday both restricted: cron runs on either, so two entries.
    both = cron_schedules("0 6 1 * mon")
    assert set(both) == {"day", "weekday"}
    assert both["day"].day_of_month == {1} and both["day"].day_of_week == set(range(7))
    assert both["weekday"].day_of_week == {1} and both["weekday"].day_of_month == set(range(1, 32))
    assert both["day"].hour == both["weekday"].hour == {6}
