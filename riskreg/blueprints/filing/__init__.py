"""Filing: informationsklassning, riskanalys, förhandsbedömning and konsekvensbedömning (DPIA), SLA.
Pages in ``views*.py``, JSON endpoints in ``api.py``; ``filing/_system_panel.html`` is the panel for
the system page (include it with ``system`` in the context)."""

from flask import Blueprint

bp = Blueprint("filing", __name__, template_folder="templates")

from riskreg.blueprints.filing import views  # noqa: E402,F401
