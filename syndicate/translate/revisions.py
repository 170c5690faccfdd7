"""The revisions of the code around the engines, in a module of their own: a translation
pass that finds nothing to do reads them (``Work._translate_fingerprint``) without loading
the code they describe.

Bump one when what its code produces changes: translations made under an older revision
are redone (see :meth:`syndicate.translate.service._Plan.rules`).
"""

from __future__ import annotations

#: What the engines are given for the same segment and terms (how protected terms are
#: sent, how compounds are spaced), in :mod:`syndicate.translate.service`: memory entries
#: made before are not reused either.
SHAPING_REVISION = 1
#: What :mod:`syndicate.translate.names` protects.
NAMES_REVISION = 1
#: What :mod:`syndicate.translate.numbers` produces.
NUMBERS_REVISION = 1
#: What :mod:`syndicate.translate.polish` produces.
POLISH_REVISION = 1

__all__ = ["NAMES_REVISION", "NUMBERS_REVISION", "POLISH_REVISION", "SHAPING_REVISION"]
