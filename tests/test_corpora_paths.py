"""The development corpora are found beside the repository or where an option or
`$NEWS_MONITOR_CORPORA` says: never at a path fixed to one machine."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from tests.connectors.conftest import corpora_dir as connectors_corpora_dir

ROOT = Path(__file__).resolve().parents[1]


def scripts_corpora() -> ModuleType:
    spec = importlib.util.spec_from_file_location("corpora", ROOT / "scripts" / "corpora.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scripts_look_beside_the_repo_or_where_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpora = scripts_corpora()
    repo = tmp_path / "checkout" / "repo"
    monkeypatch.delenv("NEWS_MONITOR_CORPORA", raising=False)
    assert corpora.corpora_dir(root=repo) == tmp_path / "checkout" / "shared" / "corpora"
    assert corpora.corpora_dir("elsewhere", root=repo) == Path("elsewhere")
    monkeypatch.setenv("NEWS_MONITOR_CORPORA", str(tmp_path / "env"))
    assert corpora.corpora_dir(root=repo) == tmp_path / "env"


def test_tests_look_beside_the_repo_or_where_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWS_MONITOR_CORPORA", raising=False)
    monkeypatch.delenv("CI", raising=False)
    repo = tmp_path / "checkout" / "repo"
    assert connectors_corpora_dir(repo) is None  # nothing beside it: no other place is tried
    (tmp_path / "checkout" / "shared" / "corpora" / "feeds").mkdir(parents=True)
    assert connectors_corpora_dir(repo) == tmp_path / "checkout" / "shared" / "corpora"
    (tmp_path / "env" / "feeds").mkdir(parents=True)
    monkeypatch.setenv("NEWS_MONITOR_CORPORA", str(tmp_path / "env"))
    assert connectors_corpora_dir(repo) == tmp_path / "env"
