from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, load_settings, read_secret_variables
from bot.sources.postgres.config import dsn_secrets
from bot.store.target import SentinelTarget

SECRET_SIGNING = "f00dfacef00dfacef00dface"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_defaults_need_nothing(clean_env: Path) -> None:
    settings = load_settings()
    assert settings.REDIS_URL is None
    assert settings.BOT_HTTP_PORT == 3000
    assert settings.slack_api_url == "https://slack.com/api/"
    assert not settings.socket_mode


def test_every_problem_is_reported_with_an_example(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOT_HTTP_PORT", "seventy")
    monkeypatch.setenv("LOG_FORMAT", "xml")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxp-user-token-value")
    monkeypatch.setenv("REDIS_URL", "http://user:hunter2@example:6379")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    by_variable = {p.variable: str(p) for p in caught.value.problems}
    assert set(by_variable) == {"BOT_HTTP_PORT", "LOG_FORMAT", "SLACK_BOT_TOKEN", "REDIS_URL"}
    assert "for example BOT_HTTP_PORT=3000" in by_variable["BOT_HTTP_PORT"]
    assert "xoxb-" in by_variable["SLACK_BOT_TOKEN"]
    message = str(caught.value)
    assert "hunter2" not in message
    assert "xoxp-user-token-value" not in message


def test_dotenv_file_is_read(clean_env: Path) -> None:
    (clean_env / ".env").write_text("BOT_HTTP_PORT=4100\nLOG_LEVEL=debug\n")
    settings = load_settings()
    assert settings.BOT_HTTP_PORT == 4100
    assert settings.LOG_LEVEL == "DEBUG"


def test_serve_requires_slack_and_webhook_secrets(clean_env: Path) -> None:
    problems = load_settings().problems_for_serve()
    assert [p.variable for p in problems] == [
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "ALERT_WEBHOOK_TOKEN",
    ]


def test_serve_with_bad_settings_exits_2_without_traceback_or_secret(clean_env: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "SLACK_BOT_TOKEN": "not-a-bot-token-s3cret",
        "SLACK_SIGNING_SECRET": SECRET_SIGNING,
        "BOT_HTTP_PORT": "99999",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=clean_env,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "BOT_HTTP_PORT" in result.stderr
    assert "not-a-bot-token-s3cret" not in result.stderr + result.stdout
    assert SECRET_SIGNING not in result.stderr + result.stdout


def test_the_variables_a_catalog_names_are_read_from_the_environment_and_dotenv(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_DATABASE_URL", "postgresql://bot:zq-env-pw@db/shop")
    monkeypatch.delenv("ORDERS_DATABASE_URL", raising=False)
    monkeypatch.delenv("EMPTY_DATABASE_URL", raising=False)
    (clean_env / ".env").write_text(
        "ORDERS_DATABASE_URL=host=db dbname=orders password=zq-file-pw\nEMPTY_DATABASE_URL=\n"
    )
    found = read_secret_variables(
        ["SHOP_DATABASE_URL", "ORDERS_DATABASE_URL", "EMPTY_DATABASE_URL"]
    )
    assert sorted(found) == ["ORDERS_DATABASE_URL", "SHOP_DATABASE_URL"]
    assert "zq-env-pw" not in repr(found)
    assert dsn_secrets(found["SHOP_DATABASE_URL"]) == [
        "postgresql://bot:zq-env-pw@db/shop",
        "zq-env-pw",
    ]
    assert dsn_secrets(found["ORDERS_DATABASE_URL"])[1] == "zq-file-pw"


@pytest.mark.parametrize(
    ("url", "sentinels", "expected"),
    [
        (
            "redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2/cache/2",
            None,
            SentinelTarget((("10.0.0.1", 26379), ("10.0.0.2", 26379)), "cache", 2, "s3cret"),
        ),
        (
            "redis+sentinel://:s3cret@/cache",
            "s1:5000, s2:5001",
            SentinelTarget((("s1", 5000), ("s2", 5001)), "cache", 0, "s3cret"),
        ),
        (None, "s1:26379", SentinelTarget((("s1", 26379),), "mymaster", 0, None)),
    ],
)
def test_redis_behind_sentinel_from_the_url_or_the_sentinel_list(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    url: str | None,
    sentinels: str | None,
    expected: SentinelTarget,
) -> None:
    if url:
        monkeypatch.setenv("REDIS_URL", url)
    if sentinels:
        monkeypatch.setenv("REDIS_SENTINELS", sentinels)
    assert load_settings().redis_target() == expected


@pytest.mark.parametrize(
    ("url", "sentinels", "problem"),
    [
        ("redis+sentinel://:s3cret@/cache", None, "no sentinel given"),
        ("redis+sentinel://:s3cret@s1:26379/cache/zero", None, "must be a number"),
        ("redis://:s3cret@127.0.0.1:6379/0", "s1:26379", "must go with REDIS_URL unset"),
        ("redis+sentinel://:s3cret@s1:port/cache", None, "host:port"),
    ],
)
def test_a_bad_sentinel_setting_is_named_without_the_password(
    clean_env: Path,
    monkeypatch: pytest.MonkeyPatch,
    url: str,
    sentinels: str | None,
    problem: str,
) -> None:
    monkeypatch.setenv("REDIS_URL", url)
    if sentinels:
        monkeypatch.setenv("REDIS_SENTINELS", sentinels)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert problem in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_a_plain_url_is_used_as_it_is(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/3")
    assert load_settings().redis_target() == "redis://127.0.0.1:6379/3"


def test_token_settings_take_two_for_rotation_and_per_source_pairs(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERT_WEBHOOK_TOKEN", "old-token-0123456789, new-token-0123456789")
    monkeypatch.setenv(
        "ALERT_SOURCE_TOKENS", "grafana:grafana-token-01234567,GRAFANA:grafana-token-next-0123"
    )
    monkeypatch.setenv("METRICS_TOKEN", "metrics-token-0123456789")
    settings = load_settings()
    assert settings.alert_tokens == ("old-token-0123456789", "new-token-0123456789")
    assert settings.alert_source_tokens == {
        "grafana": ("grafana-token-01234567", "grafana-token-next-0123")
    }
    assert settings.metrics_tokens == ("metrics-token-0123456789",)
    secrets = settings.secret_values()
    for token in ("old-token-0123456789", "new-token-0123456789", "grafana-token-next-0123"):
        assert token in secrets


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("ALERT_WEBHOOK_TOKEN", "short", "at least 16 characters"),
        ("ALERT_WEBHOOK_TOKEN", "a" * 20 + "," + "b" * 20 + "," + "c" * 20, "at most 2"),
        ("ALERT_SOURCE_TOKENS", "grafna:" + "a" * 20, "unknown source 'grafna'"),
        ("ALERT_SOURCE_TOKENS", "a" * 20, "source:token pairs"),
        ("SLACK_RESPONSE_URL_ORIGINS", "hooks.slack.com", "origins like https://"),
        ("BOT_HTTP_HEADER_TIMEOUT", "0", "greater than 0"),
    ],
)
def test_bad_token_and_limit_settings_name_the_problem_without_the_value(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, problem: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    [found] = caught.value.problems
    assert found.variable == variable
    assert problem in str(found)
    if "TOKEN" in variable:
        assert value not in str(caught.value)


def test_per_source_tokens_alone_are_enough_to_serve(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALERT_SOURCE_TOKENS", "alertmanager:" + "t" * 24)
    variables = [p.variable for p in load_settings().problems_for_serve()]
    assert "ALERT_WEBHOOK_TOKEN" not in variables
