"""The approval period from the environment: RISKREG_APPROVAL_VALIDITY_YEARS (1–10) sets the configuration the
approval rules read; anything else stops the start with a one-line reason, from create_app and from `import
wsgi`. The 90 days of "expiring" are DESIGN.md's and not taken from the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from riskreg import create_app
from riskreg.config import ConfigError
from riskreg.services import approvals
from tests.conftest import TEST_CONFIG

ROOT = Path(__file__).resolve().parent.parent
VARIABLES = ("RISKREG_APPROVAL_VALIDITY_YEARS", "RISKREG_EXPIRING_DAYS")  # the second must do nothing


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("RISKREG_INSTANCE", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/config.db")  # never connected to here
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_defaults_are_three_years_and_ninety_days(env):
    app = create_app({"TESTING": True})
    assert app.config["APPROVAL_VALIDITY_YEARS"] == 3 and app.config["EXPIRING_DAYS"] == 90


def test_the_environment_sets_the_validity_the_decision_defaults_to(env):
    env.setenv("RISKREG_APPROVAL_VALIDITY_YEARS", "2")
    env.setenv("RISKREG_EXPIRING_DAYS", " 60 ")
    app = create_app({"TESTING": True})
    assert app.config["APPROVAL_VALIDITY_YEARS"] == 2 and app.config["EXPIRING_DAYS"] == 90
    with app.app_context():
        assert approvals.default_valid_until(date(2026, 11, 24)) == date(2028, 11, 24)


def test_an_override_still_wins_over_the_environment(env):
    env.setenv("RISKREG_APPROVAL_VALIDITY_YEARS", "5")
    app = create_app({**TEST_CONFIG, "APPROVAL_VALIDITY_YEARS": 1})
    assert app.config["APPROVAL_VALIDITY_YEARS"] == 1


@pytest.mark.parametrize(
    "name, value",
    [
        ("RISKREG_APPROVAL_VALIDITY_YEARS", "0"),
        ("RISKREG_APPROVAL_VALIDITY_YEARS", "11"),
        ("RISKREG_APPROVAL_VALIDITY_YEARS", "-3"),
        ("RISKREG_APPROVAL_VALIDITY_YEARS", "tre"),
        ("RISKREG_APPROVAL_VALIDITY_YEARS", "2.5"),
    ],
)
def test_a_value_out_of_range_stops_the_start_with_one_line(env, name, value):
    env.setenv(name, value)
    with pytest.raises(ConfigError) as exc:
        create_app({"TESTING": True})
    said = str(exc.value)
    assert said.startswith(f"{name} must be a whole number from ") and "\n" not in said
    assert value.strip() in said


def test_the_wsgi_entry_point_names_the_variable(tmp_path):
    environ = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    environ.update(
        {
            "RISKREG_INSTANCE": str(tmp_path),
            "DATABASE_URL": f"sqlite:///{tmp_path}/config.db",
            "RISKREG_APPROVAL_VALIDITY_YEARS": "12",
        }
    )
    run = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert last == (
        "riskreg.config.ConfigError: "
        "RISKREG_APPROVAL_VALIDITY_YEARS must be a whole number from 1 to 10, not 12"
    )
