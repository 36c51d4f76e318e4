from flask import Blueprint

bp = Blueprint("imports", __name__, template_folder="templates")

from riskreg.blueprints.imports import views  # noqa: E402,F401
