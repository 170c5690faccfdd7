"""What one worker child owns: the store, the engines, the units of work, a Redis client.

The worker's main process only forks: it never opens the store's connections, an engine
or a model (CTranslate2 is not fork-safe, and a connection pool shared across a fork
corrupts both sides). Each child opens its own in ``worker_process_init``, right after
the fork, and closes them in ``worker_process_shutdown``. The same objects are also
opened lazily on first use, so a ``solo`` pool or an eager test works without signals.

Thread counts: each child's CTranslate2 gets ``cluster.worker_threads`` intra-op threads
and one inter-op worker, and OpenMP/BLAS the same (set in the environment before the
fork), so ``children x worker_threads`` stays within the machine's cores.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from syndicate.cluster.ledger import DeliveryLedger

if TYPE_CHECKING:
    import redis

    from syndicate.config import Settings
    from syndicate.store import Store
    from syndicate.translate.base import Translator
    from syndicate.translate.engines import Engines
    from syndicate.work import Work

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]

#: Environment variables that size the thread pools of OpenMP and BLAS libraries.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def limit_threads(threads: int) -> None:
    """Size every native thread pool of this process and its future children."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)


def thread_limited_engines(threads: int) -> Mapping[str, Callable[[Settings], Translator]]:
    """The engine registry, each engine made with ``threads`` native threads per child
    (what its settings class says that takes: see ``EngineSettings.thread_options``)."""
    from syndicate.translate import engine_factories

    return engine_factories(threads)


class Runtime:
    """The long-lived resources of one process, opened lazily, in the process that uses them."""

    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock = utc_now,
        should_stop: Callable[[], bool] | None = None,
        work_factory: Callable[..., Work] | None = None,
    ) -> None:
        self.settings = settings
        #: ``(settings, store, engines, *, clock, should_stop, warm_engines) -> Work``; default
        #: :class:`syndicate.work.Work`.
        self.work_factory = work_factory
        self.clock = clock
        self.should_stop = should_stop or (lambda: False)
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._store: Store | None = None
        self._engines: Engines | None = None
        self._work: Work | None = None
        self._redis: redis.Redis | None = None
        self._ledger: DeliveryLedger | None = None

    def _check_pid(self) -> None:
        """After a fork, forget (never close) what the parent opened: it is the parent's."""
        if os.getpid() != self._pid:
            if self._store is not None:
                self._store.engine.dispose(close=False)
            self._store = self._engines = self._work = self._redis = self._ledger = None
            self._pid = os.getpid()

    @property
    def store(self) -> Store:
        with self._lock:
            self._check_pid()
            if self._store is None:
                from syndicate.store import Store

                self._store = Store.for_settings(self.settings)
            return self._store

    @property
    def ledger(self) -> DeliveryLedger:
        store = self.store
        with self._lock:
            if self._ledger is None:
                self._ledger = DeliveryLedger(store.engine)
            return self._ledger

    @property
    def engines(self) -> Engines:
        with self._lock:
            self._check_pid()
            if self._engines is None:
                from syndicate.translate.engines import Engines

                self._engines = Engines(self.settings, thread_limited_engines(self.settings.cluster.worker_threads))
            return self._engines

    @property
    def work(self) -> Work:
        store, engines = self.store, self.engines
        with self._lock:
            if self._work is None:
                factory = self.work_factory
                if factory is None:
                    from syndicate.work import Work as factory
                # A poll task warms no engine: the translation is another task, maybe elsewhere.
                self._work = factory(
                    self.settings, store, engines, clock=self.clock, should_stop=self.should_stop, warm_engines=False
                )
            return self._work

    @property
    def redis(self) -> redis.Redis:
        with self._lock:
            self._check_pid()
            if self._redis is None:
                import redis as redis_lib

                assert self.settings.cluster.broker_url is not None
                self._redis = redis_lib.Redis.from_url(
                    self.settings.cluster.broker_url,
                    socket_connect_timeout=5,
                    socket_timeout=30,
                    retry_on_timeout=True,
                    health_check_interval=10,
                )
            return self._redis

    def open(self, *, languages: tuple[str, ...] = ()) -> None:
        """Open everything now, in a fresh worker child (after the fork): the store, and
        for each of ``languages`` the first engine of each leg of its route, made to
        translate one word, so its model is loaded (Argos) or its pipeline running
        (Apertium) before the first task, and never in the parent."""
        self.store  # noqa: B018 - opens it (and brings its schema up to date)
        engines = self.engines
        source = self.settings.site.source_language
        for language in languages:
            if language == source:
                continue
            for leg in engines.route(source, language):
                if leg.engines:
                    try:
                        leg.engines[0].translate(["News"], leg.source, leg.target)
                    except Exception as exc:  # noqa: BLE001 - the task will meet it and report it
                        logger.warning(
                            "worker child %d: %s->%s does not start: %s", os.getpid(), leg.source, leg.target, exc
                        )
        logger.info(
            "worker child %d ready (store %s)", os.getpid(), self.store.engine.url.render_as_string(hide_password=True)
        )

    def close(self) -> None:
        with self._lock:
            if os.getpid() != self._pid:
                return
            if self._engines is not None:
                self._engines.close()
            if self._store is not None:
                self._store.close()
            if self._redis is not None:
                self._redis.close()
            self._store = self._engines = self._work = self._redis = self._ledger = None


_current: Runtime | None = None
#: The languages this worker serves (its translate queues); set by the worker role.
_languages: tuple[str, ...] = ()


def install(runtime: Runtime, *, languages: tuple[str, ...] = ()) -> None:
    """Make ``runtime`` this process's (and its future children's) runtime."""
    global _current, _languages
    _current, _languages = runtime, tuple(languages)


def current() -> Runtime:
    """The process's runtime; a worker started without one reads nothing."""
    if _current is None:
        raise RuntimeError("syndicate.cluster.runtime.install() was not called in this worker")
    return _current


def _on_process_init(**_: Any) -> None:
    if _current is None:
        return
    try:
        _current.open(languages=_languages)
    except Exception as exc:  # noqa: BLE001 - a child that raises here is restarted in a loop
        # The store or an engine is not there yet: the first task opens them again and,
        # if they are still missing, fails and is retried (counted in the ledger).
        logger.error("worker child %d could not open its store or engines: %s", os.getpid(), exc)


def _on_process_shutdown(**_: Any) -> None:
    if _current is not None:
        _current.close()


def connect_signals() -> None:
    """Open the runtime in each worker child after the fork, close it when the child exits."""
    from celery.signals import worker_process_init, worker_process_shutdown

    worker_process_init.connect(_on_process_init, weak=False)
    worker_process_shutdown.connect(_on_process_shutdown, weak=False)
