"""Standard 5-field crontab lines as APScheduler triggers.

A leaf module: it imports APScheduler's trigger classes and nothing of syndicate, so
:mod:`syndicate.config` can validate ``cron = "..."`` exactly as the daemon will run it
without importing any stage.
"""

from __future__ import annotations

from datetime import UTC

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

__all__ = ["cron_trigger"]

#: Standard cron numbers its weekdays from Sunday (0 and 7); APScheduler from Monday.
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _weekday_field(value: str) -> str:
    """Standard cron weekdays (0 or 7 = Sunday) as names: APScheduler counts 0 = Monday."""
    out: list[str] = []
    for part in value.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if base == "*" and step == 1:
            return "*"
        if base == "*":
            lo, hi = 0, 6
        elif "-" in base and all(x.isdigit() for x in base.split("-", 1)):
            lo, hi = (int(x) for x in base.split("-", 1))
        elif base.isdigit():
            lo = hi = int(base)
            if step_text:
                hi = 6
        else:
            out.append(part)  # names (mon-fri) mean the same to both
            continue
        if not (0 <= lo <= 7 and 0 <= hi <= 7 and lo <= hi):
            raise ValueError(f"weekday {part!r} is out of range 0-7")
        out.extend(dict.fromkeys(_WEEKDAYS[d] for d in range(lo, hi + 1, step)))
    return ",".join(dict.fromkeys(out))


def cron_trigger(expression: str, *, jitter: float | None = None) -> BaseTrigger:
    """A trigger for a standard 5-field crontab line (UTC): minute hour day month weekday.

    As in cron, when both day-of-month and weekday are restricted a day matching either
    one runs ("0 6 1 * mon": the 1st and every Monday); APScheduler alone would require
    both. Raises :class:`ValueError` for a line APScheduler cannot parse.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields, got {len(fields)}")
    minute, hour, day, month, weekday = fields
    days = _weekday_field(weekday)

    def make(day_field: str, weekday_field: str) -> CronTrigger:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day_field,
            month=month,
            day_of_week=weekday_field,
            timezone=UTC,
            jitter=jitter,
        )

    if day != "*" and days != "*":
        from apscheduler.triggers.combining import OrTrigger

        return OrTrigger([make(day, "*"), make("*", days)])
    return make(day, days)
