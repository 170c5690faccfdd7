"""syndicate: articles in, offline-translated per-language feeds out."""

__version__ = "0.1.0"
