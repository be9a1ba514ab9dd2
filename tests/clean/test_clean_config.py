"""Invalid phrase files and settings fail at start, naming file, key and reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.clean import Cleaner, load_phrases
from monitor.config import CleanSettings, ConfigError, load_settings


def _problems(path: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as err:
        load_phrases(path)
    return [(p.file, p.key, p.reason) for p in err.value.problems]


def test_bad_regex_unknown_key_and_empty_phrase(tmp_path: Path) -> None:
    path = tmp_path / "phrases.yaml"
    path.write_text(
        "rules:\n"
        "  comment_form:\n"
        "    exact: ['LEAVE A REPLY', '  ']\n"
        "    prefixes: [oops]\n"
        "datelines: ['([unclosed']\n",
        encoding="utf-8",
    )
    problems = _problems(path)
    keys = {key for _, key, _ in problems}
    assert keys == {"rules.comment_form.exact", "rules.comment_form.prefixes", "datelines"}
    assert all(file == str(path) for file, _, _ in problems)
    reasons = " ".join(reason for _, _, reason in problems)
    assert "empty phrase" in reasons and "regular expression" in reasons


def test_bad_patterns_are_refused_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "phrases.yaml"
    path.write_text(
        "rules:\n  site_chrome:\n    pattern: ['(copyright', '(?i)copyright', 'x*']\n",
        encoding="utf-8",
    )
    problems = _problems(path)
    assert {key for _, key, _ in problems} == {"rules.site_chrome.pattern"}
    reason = problems[0][2]
    assert "'(copyright'" in reason and "not a valid regular expression" in reason
    # One problem per key: the first bad value is named.
    path.write_text("rules:\n  site_chrome:\n    pattern: ['x*']\n", encoding="utf-8")
    assert "matches an empty line" in _problems(path)[0][2]
    path.write_text("rules:\n  site_chrome:\n    pattern: ['(?i)x']\n", encoding="utf-8")
    assert "global flags such as (?i) are not allowed" in _problems(path)[0][2]


def test_missing_and_malformed_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert _problems(missing) == [(str(missing), "-", "file not found")]
    broken = tmp_path / "broken.yaml"
    broken.write_text("rules: [\n", encoding="utf-8")
    [(_, key, reason)] = _problems(broken)
    assert key.startswith("line") and "not valid YAML" in reason
    empty = tmp_path / "empty.yaml"
    empty.write_text("rules: {}\n", encoding="utf-8")
    assert _problems(empty) == [(str(empty), "rules", "no rules defined")]


def test_from_settings_resolves_phrases_against_config_dir(tmp_path: Path) -> None:
    (tmp_path / "mine.yaml").write_text("rules: {x: {exact: [foo]}}\n", encoding="utf-8")
    cleaner = Cleaner.from_settings(CleanSettings(phrases=Path("mine.yaml")), tmp_path)
    assert cleaner.phrases.match("Foo") is not None
    with pytest.raises(ConfigError):
        Cleaner.from_settings(CleanSettings(phrases=Path("absent.yaml")), tmp_path)


def test_invalid_clean_settings(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.yaml"
    cfg.write_text(
        "clean:\n  min_chars: -1\n  template_min_count: 1\n  typo: 3\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError) as err:
        load_settings(cfg)
    keys = {p.key for p in err.value.problems}
    assert keys == {"clean.min_chars", "clean.template_min_count", "clean.typo"}


def test_shipped_config_loads() -> None:
    settings = load_settings()
    cleaner = Cleaner.from_settings(settings.clean, settings.config_dir)
    assert cleaner.phrases.match("LEAVE A REPLY") is not None
