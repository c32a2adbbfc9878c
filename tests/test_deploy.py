"""Production settings: `check --deploy` is clean, and bad configuration fails loudly.

Each case runs manage.py in a subprocess with its own environment, because settings
are read once per process.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROD_SECRET = "k3J9-prod-like-secret-for-the-deploy-check-aZ8qW2xT5vN7mL4pR6sD1fG0hY"


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py with the production settings (crm.settings) and `env` on top of a
    clean environment: only what the process needs to start, no test defaults."""
    base = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "DATABASE_URL") if key in os.environ}
    base.setdefault("DATABASE_URL", "postgres://unused@127.0.0.1/unused")
    base["DJANGO_SETTINGS_MODULE"] = "crm.settings"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    assert len(PROD_SECRET) >= 60
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=PROD_SECRET,
        ALLOWED_HOSTS="crm.example.com",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNING" not in output


def test_debug_off_without_secret_key_fails_naming_it():
    result = manage("check", DEBUG="0", ALLOWED_HOSTS="crm.example.com")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("value", ["maybe", "2"])
def test_bad_debug_value_fails_naming_debug(value):
    result = manage("check", DEBUG=value, SECRET_KEY=PROD_SECRET, ALLOWED_HOSTS="crm.example.com")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DEBUG" in result.stderr
    assert repr(value) in result.stderr
