"""The scheduler role's schedule: one RedBeat entry per source.

RedBeat keeps the entries and their last run in Redis, and holds a lock there: a second
scheduler started beside the first waits for the lock and takes over only when the first
stops renewing it, so each poll is enqueued once however many schedulers run. A source
removed from the config loses its entry at the next scheduler start (RedBeat's statics).

A source's ``interval`` becomes a Celery ``schedule``; its 5-field ``cron`` a Celery
``crontab`` in UTC. Cron runs a day that matches *either* the day of month or the weekday
when both are restricted, Celery only a day matching both: such a line becomes two
entries (``...:day`` and ``...:weekday``). A never-run entry is due at once, as the
single-machine daemon polls every source when it starts.

Each poll message expires after one interval: a poll still waiting when the next one is
due is dropped rather than run twice in a row. One more entry, ``sweep``, runs hourly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from celery.schedules import crontab, schedule

from syndicate.cluster.queues import POLL_QUEUE, POLL_TASK, SWEEP_TASK

if TYPE_CHECKING:
    from syndicate.config import Settings

#: How often the scheduler asks for a sweep (:func:`syndicate.cluster.tasks.sweep`).
SWEEP_EVERY = timedelta(hours=1)

#: "Never run": RedBeat and Celery then find the entry overdue, so it runs at once.
NEVER = datetime(2000, 1, 1, tzinfo=UTC)

#: Standard cron numbers weekdays from Sunday, 0 and 7 both; Celery accepts names.
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def entry_name(position: int, source: str, variant: str = "") -> str:
    """``poll:<position>:<source>[:<variant>]``: RedBeat sends entries due at the same
    moment in the order of their names, so polls due together go out in config order."""
    return f"poll:{position:03d}:{source}{':' + variant if variant else ''}"


def _weekdays(value: str) -> str:
    """A cron weekday field with numbers (0-7, Sunday twice) as names, which Celery reads alike."""
    out: list[str] = []
    for part in value.split(","):
        base, _, step_text = part.partition("/")
        if base == "*" or not any(ch.isdigit() for ch in base):
            out.append(part)
            continue
        step = int(step_text) if step_text else 1
        lo_text, _, hi_text = base.partition("-")
        lo = int(lo_text)
        hi = int(hi_text) if hi_text else (6 if step_text else lo)
        out.extend(dict.fromkeys(_WEEKDAYS[d] for d in range(lo, hi + 1, step)))
    return ",".join(dict.fromkeys(out))


def cron_schedules(expression: str) -> dict[str, crontab]:
    """Celery crontabs for a standard 5-field cron line, keyed by entry variant."""
    minute, hour, day, month, weekday = expression.split()
    weekday = _weekdays(weekday)
    if day != "*" and weekday != "*":
        return {
            "day": crontab(minute=minute, hour=hour, day_of_month=day, month_of_year=month, day_of_week="*"),
            "weekday": crontab(minute=minute, hour=hour, day_of_month="*", month_of_year=month, day_of_week=weekday),
        }
    return {"": crontab(minute=minute, hour=hour, day_of_month=day, month_of_year=month, day_of_week=weekday)}


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """Celery's ``beat_schedule`` for every configured source."""
    entries: dict[str, dict[str, Any]] = {}
    for position, source in enumerate(settings.sources):
        options: dict[str, Any] = {"queue": POLL_QUEUE}
        if source.cron is not None:
            schedules: dict[str, Any] = cron_schedules(source.cron)
            options["expires"] = 3600.0  # cron lines run at most once a minute; an hour-old poll is stale
        else:
            interval = source.poll_interval or timedelta(minutes=15)
            schedules = {"": schedule(run_every=interval)}
            options["expires"] = max(1.0, interval.total_seconds())
        for variant, when in schedules.items():
            entries[entry_name(position, source.name, variant)] = {
                "task": POLL_TASK,
                "schedule": when,
                "args": (source.name,),
                "options": options,
                "last_run_at": NEVER,
            }
    # First after one period (no last_run_at: Celery counts from now), not at start.
    entries["sweep"] = {
        "task": SWEEP_TASK,
        "schedule": schedule(run_every=SWEEP_EVERY),
        "options": {"queue": POLL_QUEUE, "expires": SWEEP_EVERY.total_seconds()},
    }
    return entries
