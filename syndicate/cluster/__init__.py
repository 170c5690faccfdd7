"""Past one machine: the three units of work as Celery tasks on Redis, the store on PostgreSQL.

``syndicate run --role all`` (the default) stays one process with APScheduler and SQLite;
this package is used only by ``--role scheduler`` and ``--role worker``:

* :mod:`~syndicate.cluster.app`: the Celery app, configured from ``[cluster]``;
* :mod:`~syndicate.cluster.tasks`: ``syndicate.poll`` (queue ``poll``),
  ``syndicate.translate`` (queue ``translate.<lang>``), ``syndicate.publish`` (queue
  ``publish``), thin wrappers around :class:`syndicate.work.Work`;
* :mod:`~syndicate.cluster.runtime`: what a worker child owns (store, engines), opened
  after the fork in ``worker_process_init``;
* :mod:`~syndicate.cluster.ledger`: deliveries per task, the redelivery cap and the
  recorded failures;
* :mod:`~syndicate.cluster.locks`: one publisher per language (a PostgreSQL advisory lock);
* :mod:`~syndicate.cluster.schedule`: RedBeat entries, one per source;
* :mod:`~syndicate.cluster.status`: queue depths and workers seen;
* :mod:`~syndicate.cluster.roles`: ``run_worker`` and ``run_scheduler`` for the CLI.

Importing this package imports nothing heavy; Celery is imported by its modules.
"""
