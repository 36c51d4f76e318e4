"""Driftgodkännande: the pages (queue, decision, conditions, revocation, avveckling, verification,
batch print) and, in ``api.py``, the JSON endpoints of API.md."""

from flask import Blueprint

bp = Blueprint("approvals", __name__, template_folder="templates")

from riskreg.blueprints.approvals import views  # noqa: E402,F401
