"""Queue and task names: the contract between the scheduler, the workers and the status.

A leaf module (no Celery import) so the CLI and the status page can name queues cheaply.
"""

from __future__ import annotations

from collections.abc import Iterable

POLL_TASK = "syndicate.poll"
TRANSLATE_TASK = "syndicate.translate"
PUBLISH_TASK = "syndicate.publish"
#: Hourly (the scheduler's): translate what waits while nothing is being translated.
SWEEP_TASK = "syndicate.sweep"

#: ``poll(source)``: fetch, extract, upsert; cheap and I/O-bound.
POLL_QUEUE = "poll"
#: ``publish(lang)``: rebuild one language's outputs; needs the output folders.
PUBLISH_QUEUE = "publish"
#: ``translate(article_ids, lang)`` goes to ``translate.<lang>``, so a worker can serve
#: only the languages whose models it has.
TRANSLATE_PREFIX = "translate."

#: Every key syndicate itself keeps in the broker's Redis starts with this.
REDIS_PREFIX = "syndicate:"


def translate_queue(language: str) -> str:
    """The queue carrying the translation batches of ``language``."""
    return f"{TRANSLATE_PREFIX}{language}"


def worker_queues(languages: Iterable[str], *, poll: bool = True, publish: bool = True) -> list[str]:
    """The queues a worker serving ``languages`` consumes (poll and publish by default)."""
    queues = [POLL_QUEUE] if poll else []
    queues += [translate_queue(language) for language in dict.fromkeys(languages)]
    if publish:
        queues.append(PUBLISH_QUEUE)
    return queues


def parse_queues(text: str, languages: Iterable[str]) -> list[str]:
    """``--queues poll,publish,translate.es`` (``translate`` alone: every language given)."""
    out: list[str] = []
    for name in (part.strip() for part in text.split(",")):
        if not name:
            continue
        if name == "translate":
            out += [translate_queue(language) for language in languages]
        elif name in (POLL_QUEUE, PUBLISH_QUEUE) or name.startswith(TRANSLATE_PREFIX):
            out.append(name)
        else:
            raise ValueError(
                f"unknown queue {name!r}: give poll, publish, translate (every language) or translate.<lang>"
            )
    return list(dict.fromkeys(out))
