"""Production settings come from the environment and refuse to start without their secrets."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group

ROOT = Path(__file__).resolve().parents[1]


def run_manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "NEWSROOM_"))} | env
    environment.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_manage("check", DJANGO_ALLOWED_HOSTS="news.example.org")
    assert result.returncode != 0 and "DJANGO_SECRET_KEY is not set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = run_manage("check", DJANGO_SECRET_KEY="x" * 60)
    assert result.returncode != 0 and "DJANGO_ALLOWED_HOSTS is not set" in result.stderr


def test_production_refuses_to_start_without_its_public_address():
    result = run_manage("check", DJANGO_SECRET_KEY="x" * 60, DJANGO_ALLOWED_HOSTS="news.example.org")
    assert result.returncode != 0 and "NEWSROOM_SITE_URL is not set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECRET_KEY="a-long-random-production-secret-" + "k" * 40,
        DJANGO_ALLOWED_HOSTS="news.example.org",
        NEWSROOM_SITE_URL="https://news.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_the_two_newsroom_groups_exist_with_their_permissions():
    journalists = set(Group.objects.get(name="Journalists").permissions.values_list("codename", flat=True))
    editors = set(Group.objects.get(name="Editors").permissions.values_list("codename", flat=True))
    assert {"add_entry", "change_entry", "view_entry"} <= journalists
    assert not {"publish_entry", "review_entry", "publish_livepost", "delete_entry"} & journalists
    assert {"publish_entry", "review_entry", "publish_livepost", "add_livepost", "add_column"} <= editors
