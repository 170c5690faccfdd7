"""Publishing: per-language feeds and archives, translated pages, indexes and sitemaps,
from the store.

The incremental publisher is :class:`~syndicate.publish.publisher.FeedPublisher`; what
each output is made of is planned in :mod:`~syndicate.publish.plan`, ordered in
:mod:`~syndicate.publish.ordering`, paged in :mod:`~syndicate.publish.history`, and
rendered by :mod:`~syndicate.publish.feeds` (feedgen), :mod:`~syndicate.publish.pages`
(Jinja2) and :mod:`~syndicate.publish.sitemaps`; :mod:`~syndicate.publish.writer` puts
each file in place atomically.
"""

from syndicate.publish.publisher import FeedPublisher, Renderers, check_history, default_renderers

__all__ = ["FeedPublisher", "Renderers", "check_history", "default_renderers"]
