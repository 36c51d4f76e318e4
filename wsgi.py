"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""

from riskreg import create_app

app = create_app()
