"""The scheduler role's beat: RedBeat, made to outlive a Redis restart.

RedBeat extends its lock and reads its entries from Redis at every tick, and lets a
connection error escape: Celery's beat then exits, and with it the scheduler (a Redis
down for ten seconds was enough). :class:`SteadyScheduler` waits instead: a tick that
meets Redis down logs once and asks to be called again a little later, and when Redis is
back a lock that expired meanwhile is taken again the way it is at start (blocking: if
another scheduler took over, this one waits as its stand-by). Polls due during the
outage are sent at the first tick after it (their entries are overdue by then).
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from redbeat import RedBeatScheduler

logger = logging.getLogger(__name__)

#: Seconds between ticks while Redis does not answer.
OUTAGE_TICK = 2.0


class SteadyScheduler(RedBeatScheduler):  # type: ignore[misc]
    """:class:`RedBeatScheduler` whose ticks wait out a Redis that does not answer."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._down = False

    def tick(self, min: Any = min, **kwargs: Any) -> float:  # noqa: A002 - Celery's signature
        try:
            interval = float(super().tick(min=min, **kwargs))
        except redis.exceptions.LockError:
            # The lock expired while Redis was away (or another scheduler holds it now):
            # take it again as at start, waiting while another holds it.
            logger.warning("scheduler: the beat lock was lost while Redis was away; taking it again")
            self.lock.acquire(blocking=True)
            logger.info("scheduler: beat lock taken again")
            return 0.0
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError) as exc:
            if not self._down:
                logger.warning(
                    "scheduler: Redis does not answer (%s); waiting for it (polls due meanwhile are sent "
                    "when it is back)",
                    exc,
                )
            self._down = True
            return OUTAGE_TICK
        if self._down:
            logger.info("scheduler: Redis answers again")
            self._down = False
        return interval
