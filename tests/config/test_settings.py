"""Settings come from the environment, and production refuses unsafe defaults."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from config.env import cache_config, env_bool, site_url_parse
from membership.models import Title

ROOT = Path(__file__).resolve().parents[2]


def run_python(tmp_path: Path, *arguments: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run Python in the project with ``env`` (no secrets or DEBUG inherited)."""
    child_env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "DEBUG"} and "STRIPE" not in k
    }
    child_env.update(MASTHEAD_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def django_check(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return run_python(tmp_path, "manage.py", "check", **env)


def test_production_without_secret_key_refuses_to_start_with_a_clear_message(
    tmp_path: Path,
) -> None:
    result = django_check(tmp_path, DEBUG="false")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" in result.stderr or "ImproperlyConfigured" in result.stderr


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "x" * 60,
    "ALLOWED_HOSTS": "news.example.com",
    "SITE_URL": "https://news.example.com",
    "STRIPE_SECRET_KEY": "sk_test_production_like",
    "STRIPE_WEBHOOK_SECRET": "whsec_production_like",
}


def test_production_with_its_secrets_starts(tmp_path: Path) -> None:
    result = django_check(tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr


def test_production_without_stripe_keys_refuses_to_start(tmp_path: Path) -> None:
    without_stripe = {k: v for k, v in PRODUCTION.items() if not k.startswith("STRIPE")}
    result = django_check(tmp_path, **without_stripe)
    assert result.returncode != 0
    assert "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are not set" in result.stderr


def test_production_without_site_url_refuses_to_start(tmp_path: Path) -> None:
    without_site = {k: v for k, v in PRODUCTION.items() if k != "SITE_URL"}
    result = django_check(tmp_path, **without_site)
    assert result.returncode != 0
    assert "SITE_URL is not set" in result.stderr


@pytest.mark.parametrize(
    "url",
    [
        "news.example.com",
        "ftp://news.example.com",
        "https://news.example.com/shop/",
        "https://news.example.com:port",
        "https://",
    ],
)
def test_a_site_url_that_is_not_a_scheme_and_a_host_is_refused(tmp_path: Path, url: str) -> None:
    result = django_check(tmp_path, **{**PRODUCTION, "SITE_URL": url})
    assert result.returncode != 0
    assert "SITE_URL=" in result.stderr


def test_site_url_loses_its_trailing_slash() -> None:
    assert site_url_parse("https://news.example.com:8443/") == "https://news.example.com:8443"


def test_trusted_proxy_count_sets_allauths_and_drfs_proxy_counts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    env.update(MASTHEAD_VAR_DIR=str(tmp_path), DEBUG="true", TRUSTED_PROXY_COUNT="2")
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "from rest_framework.settings import api_settings; "
        "from allauth import app_settings; "
        "print(app_settings.TRUSTED_PROXY_COUNT, api_settings.NUM_PROXIES)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        check=False,
    )
    assert result.stdout.split() == ["2", "2"], result.stderr


def test_a_negative_trusted_proxy_count_is_refused(tmp_path: Path) -> None:
    result = django_check(tmp_path, DEBUG="true", TRUSTED_PROXY_COUNT="-1")
    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be 0 or more" in result.stderr


def test_a_local_run_needs_no_configuration(tmp_path: Path) -> None:
    assert django_check(tmp_path, DEBUG="true").returncode == 0


def test_yes_no_words_are_read_and_nonsense_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", False) is True
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured):
        env_bool("FLAG", False)


def test_cache_url_chooses_redis_in_production_and_a_shared_file_cache_locally(
    tmp_path: Path,
) -> None:
    assert cache_config("redis://127.0.0.1:6379/1", default_dir=tmp_path)["BACKEND"].endswith(
        "RedisCache"
    )
    local = cache_config("", default_dir=tmp_path)
    assert local == {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": str(tmp_path),
    }
    with pytest.raises(ImproperlyConfigured):
        cache_config("memcached://x", default_dir=tmp_path)


def database_options(tmp_path: Path, **env: str) -> str:
    """The default database's OPTIONS as the settings build them for ``env``."""
    show = "from config import settings; print(settings.DATABASES['default'].get('OPTIONS'))"
    done = run_python(tmp_path, "-c", show, DEBUG="true", **env)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_postgresql_binds_parameters_on_the_server_and_prepares_unless_told_not_to(
    tmp_path: Path,
) -> None:
    url = {"DATABASE_URL": "postgres://masthead@db.example.com:5432/masthead"}

    assert "'server_side_binding': True" in database_options(tmp_path, **url)
    assert "'prepare_threshold': 5" in database_options(tmp_path, **url)
    off = database_options(tmp_path, DB_PREPARED_STATEMENTS="false", **url)
    assert "server_side_binding" not in off and "prepare_threshold" not in off


@pytest.mark.django_db
def test_a_statement_run_again_and_again_is_planned_once_on_postgresql() -> None:
    if connection.vendor != "postgresql":
        assert "prepare_threshold" not in connection.settings_dict["OPTIONS"]
        return
    for _ in range(6):
        list(Title.objects.filter(slug="the-same-question"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ['%"membership_title"."slug" = $1%'],
        )
        assert cursor.fetchone()[0] == 1
