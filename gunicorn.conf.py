"""Production serving: `gunicorn wsgi:app` (gunicorn reads this file from the working directory).

Every setting can be changed from the environment, so one file serves every installation:

| variable              | setting                               | default                        |
|-----------------------|---------------------------------------|--------------------------------|
| `RISKREG_BIND`        | address to listen on (behind a TLS proxy) | `127.0.0.1:8000`           |
| `WEB_CONCURRENCY`     | worker processes                      | 2 × CPUs + 1, at most 9        |
| `RISKREG_THREADS`     | threads per worker (gthread)          | 4                              |
| `RISKREG_TIMEOUT`     | seconds before a silent worker is killed | 60 (PDF and XLSX exports)   |
| `FORWARDED_ALLOW_IPS` | proxies trusted for X-Forwarded-Proto | `127.0.0.1,::1`                |
| `RISKREG_PROXY_HOPS`  | proxies in front appending X-Forwarded-For | 0 (the peer is the client) |

The database pools are per process: workers × (5 + 10 overflow) connections for requests, plus up to 8
for the report's parts run side by side (riskreg/side_by_side.py); keep workers × 23 under PostgreSQL's
`max_connections`. Logs go to stdout/stderr as one JSON object a line, each access line with the request
id the app answers in `X-Request-ID` (the same id the audit trail records), so a SIEM can join the access
log to the audit trail.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
from datetime import UTC, datetime

from gunicorn import glogging

bind = os.environ.get("RISKREG_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY") or min(2 * multiprocessing.cpu_count() + 1, 9))
worker_class = "gthread"
threads = int(os.environ.get("RISKREG_THREADS") or 4)
timeout = int(os.environ.get("RISKREG_TIMEOUT") or 60)
graceful_timeout = 30
keepalive = 5
# recycle workers now and then (bounded memory growth), staggered so they do not restart together
max_requests = 5000
max_requests_jitter = 500
# request limits (bodies are limited by the app: MAX_CONTENT_LENGTH → 413)
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
# only the local reverse proxy may say the request came over HTTPS (HSTS and Secure cookies rely on it)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# load the app once in the master: a refused configuration (riskreg.config.ConfigError) stops the start
# with its one-line reason instead of every worker failing in turn
preload_app = True
if os.path.isdir("/dev/shm"):  # noqa: S108 - the heartbeat file in memory, as gunicorn advises
    worker_tmp_dir = "/dev/shm"  # noqa: S108
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("RISKREG_LOG_LEVEL", "info")
proc_name = "riskreg"


class JsonFormatter(logging.Formatter):
    """gunicorn's own messages (start, worker boot and exit, errors) as JSON lines."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"at": datetime.fromtimestamp(record.created, UTC).isoformat(), "level": record.levelname,
                 "logger": record.name, "message": record.getMessage(), "pid": record.process}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class JsonLogger(glogging.Logger):
    """Access log lines as JSON objects, with the request id from the app's X-Request-ID header."""

    def setup(self, cfg):
        super().setup(cfg)
        for handler in self.error_log.handlers:
            handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        headers = dict((k.lower(), v) for k, v in (resp.headers or []))
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        entry = {
            "at": datetime.now(UTC).isoformat(),
            "level": "INFO",
            "logger": "gunicorn.access",
            "request_id": headers.get("x-request-id"),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "method": environ.get("REQUEST_METHOD"),
            "path": environ.get("PATH_INFO"),
            "query": environ.get("QUERY_STRING") or None,
            "status": int(status) if str(status).isdigit() else status,
            "bytes": getattr(resp, "sent", None),
            "ms": round(request_time.total_seconds() * 1000, 1),
            "user_agent": environ.get("HTTP_USER_AGENT"),
            "pid": os.getpid(),
        }
        try:
            self.access_log.info(json.dumps(entry, ensure_ascii=False))
        except Exception:  # noqa: BLE001 - a log line must never fail a request
            self.error("could not write an access log line")


logger_class = JsonLogger


# Behind N proxies that each append to X-Forwarded-For (nginx: `proxy_set_header X-Forwarded-For
# $proxy_add_x_forwarded_for;`), the client's own address is the N-th from the right. Only then may it be
# believed: a client can prepend anything, but not what the proxies append. gunicorn listens on 127.0.0.1, so
# nothing reaches it but the proxy.
proxy_hops = int(os.environ.get("RISKREG_PROXY_HOPS") or 0)


def post_worker_init(worker):
    """Behind the proxy: the client address (request.remote_addr, the audit trail's client_address and the
    login throttling per address) is the one the proxy saw."""
    if proxy_hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        worker.wsgi = ProxyFix(worker.wsgi, x_for=proxy_hops, x_proto=0, x_host=0)


def post_fork(server, worker):
    """The master loaded the app (preload_app); each worker opens its own database connections."""
    from riskreg.extensions import db

    app = worker.app.wsgi()
    with app.app_context():
        db.engine.dispose(close=False)
