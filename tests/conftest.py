"""Root test configuration: the shared database-backend fixtures (``backend``, ``db``,
``fresh_url``; see ``tests/db_backends.py``) for every test folder."""

pytest_plugins = ["db_backends"]
