"""Reports: the CISO's coverage report (page, JSON, PDF, CSV, XLSX) and the systems list as a file."""

from flask import Blueprint

bp = Blueprint("reports", __name__, template_folder="templates")

from riskreg.blueprints.reports import views  # noqa: E402,F401
