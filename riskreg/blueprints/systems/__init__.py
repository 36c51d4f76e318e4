from flask import Blueprint

bp = Blueprint("systems", __name__, template_folder="templates")

from riskreg.blueprints.systems import views  # noqa: E402,F401
