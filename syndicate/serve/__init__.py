"""``syndicate serve``: the published feeds and pages over HTTP, plus status and metrics.

``app.py`` is the ASGI application, ``files.py`` the safe, cached file lookup,
``headers.py`` the headers per kind of file, ``status.py`` what the status page shows,
``runner.py`` uvicorn's configuration (alone or beside the daemon).
"""

from syndicate.serve.app import SyndicateApp, create_app

__all__ = ["SyndicateApp", "create_app"]
