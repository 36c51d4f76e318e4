from flask import Blueprint

bp = Blueprint("accounts", __name__, template_folder="templates")

from riskreg.blueprints.accounts import views  # noqa: E402,F401
