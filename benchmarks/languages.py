"""The target languages of benchmarks in many languages (``scale_bench.py --languages N``,
``bench_engine.py``), in a module of their own: the bench engine's process imports them
without loading the benchmark."""

MANY_LANGUAGES = (
    "es", "ca", "eo", "gl", "fr", "it", "pt", "de", "nl", "pl",
    "ro", "sv", "da", "nb", "fi", "cs", "sk", "sl", "hr", "eu",
)  # fmt: skip
