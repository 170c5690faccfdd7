"""Editors' corrections and review: a human correction is a translation (see ``service``)."""
