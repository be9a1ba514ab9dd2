"""Config problems name their true origin: the file, or the environment variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.config import ConfigError, load_settings
from monitor.config_load import check, load


def write(tmp_path: Path, text: str) -> Path:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(text, encoding="utf-8")
    return cfg


def problems(cfg: Path, env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(cfg, env)
    return [str(p) for p in err.value.problems]


def test_a_misspelt_env_key_is_blamed_on_the_variable(tmp_path: Path) -> None:
    cfg = write(tmp_path, "kafka:\n  topic: t\n")
    assert problems(cfg, {"NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVER": "x"}) == [
        "env NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVER: kafka.bootstrap_server: unknown key"
        " 'bootstrap_server' in section 'kafka' (did you mean 'bootstrap_servers'?)"
    ]


def test_a_misspelt_env_section_is_an_error_not_ignored(tmp_path: Path) -> None:
    cfg = write(tmp_path, "kafka:\n  topic: t\n")
    assert problems(cfg, {"NEWS_MONITOR_KAFAK__BOOTSTRAP_SERVERS": "x"}) == [
        "env NEWS_MONITOR_KAFAK__BOOTSTRAP_SERVERS: kafak.bootstrap_servers: unknown section"
        " 'kafak' (did you mean 'kafka'?)"
    ]


def test_a_bad_env_value_is_blamed_on_the_variable_and_file_problems_on_the_file(
    tmp_path: Path,
) -> None:
    cfg = write(tmp_path, "kafka:\n  partitions: 3\nobserve:\n  port: 70000\n")
    got = problems(cfg, {"NEWS_MONITOR_KAFKA__PARTITIONS": "0"})
    assert len(got) == 2
    assert got[0].startswith("env NEWS_MONITOR_KAFKA__PARTITIONS: kafka.partitions: ")
    assert got[1].startswith(f"{cfg}: observe.port: ")


def test_env_values_override_the_file_and_are_remembered(tmp_path: Path) -> None:
    cfg = write(tmp_path, "kafka:\n  topic: from-file\n  partitions: 2\n")
    env = {
        "NEWS_MONITOR_KAFKA__TOPIC": "from-env",
        "NEWS_MONITOR_HTTP__ALLOW_PRIVATE": '["127.0.0.1", "10.0.0.0/8"]',
        # Variables of the project that are not settings are left alone.
        "NEWS_MONITOR_TEST_BOOTSTRAP": "127.0.0.1:1",
        "NEWS_MONITOR_KAFKA_CACHE": "/tmp/cache",
    }
    s = load(cfg, env)
    assert (s.kafka.topic, s.kafka.partitions) == ("from-env", 2)
    assert s.http.allow_private == ["127.0.0.1", "10.0.0.0/8"]
    assert s.origin("kafka.topic") == "env NEWS_MONITOR_KAFKA__TOPIC"
    assert s.origin("kafka.partitions") == str(cfg)


def test_a_list_from_the_environment_must_be_json(tmp_path: Path) -> None:
    cfg = write(tmp_path, "{}\n")
    (got,) = problems(cfg, {"NEWS_MONITOR_HTTP__ALLOW_PRIVATE": "127.0.0.1"})
    assert got.startswith(
        "env NEWS_MONITOR_HTTP__ALLOW_PRIVATE: http.allow_private: not valid JSON"
    )
    (got,) = problems(cfg, {"NEWS_MONITOR_SOURCES__0__URL": "http://x/"})
    assert got.startswith("env NEWS_MONITOR_SOURCES__0__URL: sources.0.url: 'sources' is a list")


def test_internal_fields_cannot_be_set(tmp_path: Path) -> None:
    cfg = write(tmp_path, "config_dir: /etc\n")
    got = problems(cfg, {"NEWS_MONITOR_CONFIG_FILE": "x"})
    assert got == [
        "env NEWS_MONITOR_CONFIG_FILE: config_file: unknown section 'config_file'",
        f"{cfg}: config_dir: unknown section 'config_dir'",
    ]


def test_a_section_check_names_the_variables_that_took_part(tmp_path: Path) -> None:
    cfg = write(tmp_path, "kafka:\n  delivery_timeout_s: 40\n")
    (got,) = problems(cfg, {"NEWS_MONITOR_KAFKA__REQUEST_TIMEOUT_S": "60"})
    assert got.startswith(f"{cfg}: kafka: delivery_timeout_s must be greater")
    assert got.endswith("(with NEWS_MONITOR_KAFKA__REQUEST_TIMEOUT_S from the environment)")


def test_a_misspelt_file_key_gets_a_suggestion(tmp_path: Path) -> None:
    cfg = write(tmp_path, "state:\n  pathh: x\n")
    assert problems(cfg, {}) == [
        f"{cfg}: state.pathh: unknown key 'pathh' in section 'state' (did you mean 'path'?)"
    ]


def test_load_settings_reads_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = write(tmp_path, "{}\n")
    monkeypatch.setenv("NEWS_MONITOR_STAT__PATH", "x.db")
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    assert [p.file for p in err.value.problems] == ["env NEWS_MONITOR_STAT__PATH"]


def test_an_empty_file_is_a_problem_and_braces_mean_defaults(tmp_path: Path) -> None:
    cfg = write(tmp_path, "# nothing here yet\n")
    (got,) = problems(cfg, {})
    assert got.startswith(f"{cfg}: -: the file is empty: every setting would take its default")
    assert load(write(tmp_path, "{}\n"), {}).sources == []


def test_check_reports_schema_rules_gazetteer_and_sources_in_one_pass(tmp_path: Path) -> None:
    (tmp_path / "gaz.yaml").write_text("entities:\n  - {id: x}\n", encoding="utf-8")
    cfg = write(
        tmp_path,
        "kafka:\n  partitions: 0\n"
        "filters:\n  gazetteer: gaz.yaml\n  rules:\n    - {name: broken, query: '(a AND b'}\n"
        "sources:\n"
        "  - {name: local, url: 'http://127.0.0.1:8080/rss'}\n"
        "  - {name: lan, url: 'http://[fd00::1]/rss'}\n"
        "  - {name: dev, url: 'http://feeds.localhost/rss'}\n"
        "  - {name: pub, url: 'https://example.com/rss'}\n"
        "  - {name: again, url: 'https://example.com/rss'}\n",
    )
    settings, found = check(cfg, {"NEWS_MONITOR_LOGGING__LEVEL": "LOUD"})
    assert settings is None
    where = {(p.file, p.key) for p in found}
    assert (str(cfg), "kafka.partitions") in where
    assert ("env NEWS_MONITOR_LOGGING__LEVEL", "logging.level") in where
    assert (str(cfg), "filters.rules.0.query") in where
    assert any(p.file.endswith("gaz.yaml") for p in found)
    by_key = {p.key: p.reason for p in found}
    assert by_key["sources.0.url"].startswith(
        "loopback address 127.0.0.1 (not in http.allow_private): `run` would refuse it"
    )
    assert by_key["sources.1.url"].startswith("private address fd00::1")
    assert by_key["sources.2.url"].startswith(
        "feeds.localhost resolves to loopback address 127.0.0.1"
    )
    assert "same url as sources.3 ('pub')" in by_key["sources.4.url"]
    assert "sources.3.url" not in by_key


def test_allowed_private_sources_and_env_sources_are_judged_by_their_origin(
    tmp_path: Path,
) -> None:
    cfg = write(
        tmp_path,
        "http:\n  allow_private: ['127.0.0.1']\n"
        "sources:\n  - {name: local, url: 'http://127.0.0.1:8080/rss'}\n",
    )
    settings, found = check(cfg, {})
    assert found == [] and settings is not None and settings.warnings == ()
    env = {"NEWS_MONITOR_SOURCES": '[{"name": "lan", "url": "http://10.1.2.3/rss"}]'}
    _, found = check(cfg, env)
    assert [(p.file, p.key) for p in found] == [("env NEWS_MONITOR_SOURCES", "sources.0.url")]


def test_rules_from_the_environment_are_blamed_on_the_variable(tmp_path: Path) -> None:
    cfg = write(tmp_path, "{}\n")
    env = {"NEWS_MONITOR_FILTERS__RULES": '[{"name": "r", "query": "(a AND"}]'}
    _, found = check(cfg, env)
    assert [(p.file, p.key) for p in found] == [
        ("env NEWS_MONITOR_FILTERS__RULES", "filters.rules.0.query")
    ]


def test_nothing_to_poll_is_a_warning(tmp_path: Path) -> None:
    settings, found = check(write(tmp_path, "kafka:\n  topic: t\n"), {})
    assert found == [] and settings is not None
    assert [w.key for w in settings.warnings] == ["sources"]
    cfg = write(tmp_path, "replay:\n  - {name: r, path: missing}\n")
    settings, found = check(cfg, {})
    assert found == [] and settings is not None
    assert [w.key for w in settings.warnings] == ["replay.0.path"]


def test_building_the_stages_blames_rules_from_the_environment_on_the_variable(
    tmp_path: Path,
) -> None:
    from monitor.wiring import build_stages

    cfg = write(tmp_path, "filters:\n  rules: []\n")
    settings = load(cfg, {"NEWS_MONITOR_FILTERS__RULES": '[{"name": "r", "query": "(a AND"}]'})
    with pytest.raises(ConfigError) as err:
        build_stages(settings)
    assert [p.file for p in err.value.problems] == ["env NEWS_MONITOR_FILTERS__RULES"]


def test_keys_that_are_not_names_are_problems_not_a_crash(tmp_path: Path) -> None:
    cfg = write(tmp_path, "1: x\nkafka:\n  2: y\n")
    assert sorted(problems(cfg, {})) == [
        f"{cfg}: 1: Keys should be strings",
        f"{cfg}: kafka.2: Keys should be strings",
    ]
