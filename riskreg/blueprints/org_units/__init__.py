from flask import Blueprint

bp = Blueprint("org_units", __name__, template_folder="templates")

from riskreg.blueprints.org_units import views  # noqa: E402,F401
