"""The cluster tests: real Redis and PostgreSQL come from tests/services.py via tests/conftest.py."""
