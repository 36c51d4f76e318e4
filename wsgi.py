"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""

import gc

from riskreg import create_app

app = create_app()

# What start-up built (the app, its routes, SQLAlchemy's mappers and caches) lives as long as the process:
# frozen, the garbage collector's full collections skip it instead of pausing a request for tens of
# milliseconds every dozen requests. gunicorn preloads this module, so the workers inherit it frozen.
gc.freeze()
