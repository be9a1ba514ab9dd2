"""The compose file's `scaled` profile: fetch and stories services, run by role (no engine here).

Parsed with PyYAML like tests/integration/test_containers.py; the documented command is
read from docs/operations.md and the compose file's header, so they cannot drift apart.
"""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_containers import (
    CONFIG_IN_CONTAINER,
    MONITOR_IMAGE,
    compose,
    dockerfile,
    image_env,
    service,
)

ROOT = Path(__file__).resolve().parents[2]
STATE_DIR = "/var/lib/news-monitor"


def scaled_commands(text: str) -> list[list[str]]:
    """Every `docker compose --profile scaled up ...` command line (shell or comment) in a text."""
    found = re.findall(r"^(?:#\s*)?(docker compose --profile scaled up.*)$", text, re.MULTILINE)
    return [shlex.split(line, comments=True) for line in found]


def scales(argv: list[str]) -> dict[str, int]:
    pairs = [argv[i + 1] for i, word in enumerate(argv) if word == "--scale"]
    return {name: int(n) for name, n in (p.split("=") for p in pairs)}


@pytest.mark.parametrize("role", ["fetch", "stories"])
def test_each_role_is_a_scaled_service_running_the_role(role: str) -> None:
    svc = service(role)
    assert svc["profiles"] == ["scaled"]
    assert svc["command"] == [
        "news-monitor",
        "run",
        "--role",
        role,
        "--config",
        CONFIG_IN_CONTAINER,
    ]
    assert svc["image"] == MONITOR_IMAGE and svc["pull_policy"] == "never"
    assert svc["restart"] == "unless-stopped" and svc["init"] is True
    assert int(svc["stop_grace_period"].rstrip("s")) > 10  # SIGTERM finishes within 10 s
    # Replicas: no fixed host port, no container name, no shared state volume.
    assert "ports" not in svc and "container_name" not in svc
    assert not [v for v in svc["volumes"] if v.split(":")[1] == STATE_DIR]


def test_the_single_machine_services_are_not_in_the_profile() -> None:
    for name in ("worker", "consumer", "kafka", "topics"):
        assert "profiles" not in service(name), name


def test_a_fetch_replica_keeps_its_state_in_its_own_volume() -> None:
    # The image declares the state folder a volume: each replica gets its own.
    volumes = [a for i, a in dockerfile() if i == "VOLUME"]
    assert any(STATE_DIR in v for v in volumes)
    assert image_env()["NEWS_MONITOR_STATE__PATH"].startswith(STATE_DIR + "/")
    assert "NEWS_MONITOR_STATE__PATH" not in service("fetch")["environment"]


@pytest.mark.parametrize("doc", ["docs/operations.md", "docker-compose.yml"])
def test_the_documented_command_scales_the_roles_and_stops_the_worker(doc: str) -> None:
    commands = scaled_commands((ROOT / doc).read_text(encoding="utf-8"))
    assert commands, f"{doc}: no `docker compose --profile scaled up` command"
    for argv in commands:
        got = scales(argv)
        assert got.get("worker") == 0, f"{doc}: the worker would publish every story again"
        assert got.get("fetch", 1) >= 1 and got.get("stories", 1) in (1, 2)
        assert set(got) <= set(compose()["services"])


def test_the_image_the_roles_run_is_built_from_this_tree_with_the_roles_package() -> None:
    services: dict[str, Any] = compose()["services"]
    assert services["worker"]["build"] == "." and services["worker"]["pull_policy"] == "build"
    build_copies = [a for i, a in dockerfile() if i == "COPY"]
    assert any(a.split()[0] == "monitor" for a in build_copies)
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = set(meta["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("monitor", "connectors")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk <= packages, f"packages missing from the wheel: {on_disk - packages}"
