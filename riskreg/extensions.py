"""Flask extensions, created once and bound in create_app."""

from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from sqlalchemy import event
from sqlalchemy.engine import Engine

from riskreg.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

# How long an SQLite connection waits for a lock before giving up (ms). One literal statement, so code that
# lowers the wait for a moment can put it back without building SQL.
SQLITE_BUSY_TIMEOUT = "PRAGMA busy_timeout=10000"


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_conn, _record) -> None:
    """SQLite: enforce foreign keys, and let SQLAlchemy control transactions (pysqlite's own BEGIN
    handling breaks SAVEPOINTs)."""
    if type(dbapi_conn).__module__.startswith("sqlite3"):
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(SQLITE_BUSY_TIMEOUT)
        cur.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    """SQLite: every transaction takes the write lock when it begins (IMMEDIATE). A transaction that read
    first and wrote later (a request recording its export, a decision beside a print job writing its
    progress) could not upgrade its lock while another waited to commit: SQLite fails one of them at once,
    without waiting. Begun IMMEDIATE, transactions queue for the lock (``busy_timeout``) and never
    deadlock; SQLite serves one writer at a time anyway, and PostgreSQL is the database for many users."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")
