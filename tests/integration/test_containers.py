"""Static checks of Dockerfile, .dockerignore and docker-compose.yml (no Docker engine here).

The files are parsed, not grepped: compose with PyYAML, the Dockerfile into
(instruction, arguments) pairs. Every `news-monitor` command must name a real
subcommand, every NEWS_MONITOR_ variable a real settings key, and the probe
the image runs is executed here against a real observe server.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from monitor.config import ENV_PREFIX, KafkaSettings, ObserveSettings, Settings, load_settings
from monitor.logging import is_secret_key
from monitor.observe import Metrics, ObserveServer, Readiness
from tests.clitree import top_level_commands
from tests.integration.installed import dockerfile as docker

ROOT = Path(__file__).resolve().parents[2]

SUBCOMMANDS = top_level_commands()  # as monitor/cli.py's build_parser() defines them
CONFIG_IN_CONTAINER = "/app/config/monitor.yaml"
STATE_DIR = "/var/lib/news-monitor"
MONITOR_IMAGE = "news-monitor:local"


# --- parsing -----------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuations joined, comments dropped."""
    return [(i.name, i.args) for i in docker.instructions(ROOT / "Dockerfile")]


def final_stage(instrs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (ins, _) in enumerate(instrs) if ins == "FROM")
    return instrs[last_from:]


def env_pairs(args: str) -> dict[str, str]:
    """ENV k=v k2=v2 (or the legacy ENV k v) as a dict."""
    tokens = shlex.split(args)
    if tokens and "=" not in tokens[0]:
        return {tokens[0]: " ".join(tokens[1:])}
    return dict(t.split("=", 1) for t in tokens)


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for ins, args in final_stage(dockerfile()):
        if ins == "ENV":
            env.update(env_pairs(args))
    return env


def compose() -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    assert isinstance(doc, dict)
    return doc


def service(name: str) -> dict[str, Any]:
    svc = compose()["services"][name]
    assert isinstance(svc, dict)
    return svc


def env_of(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment", {})
    if isinstance(env, list):  # the "KEY=value" list form
        env = dict(e.split("=", 1) for e in env)
    return {k: str(v) for k, v in env.items()}


def healthcheck_python(test: list[str]) -> str:
    assert test[:3] == ["CMD", "python", "-c"], test
    return test[3]


def setting_exists(env_key: str) -> bool:
    """Whether NEWS_MONITOR_A__B names a real field of Settings (A) / its section (B)."""
    parts = env_key.removeprefix(ENV_PREFIX).lower().split("__")
    model: type[BaseModel] = Settings
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return False
        ann = field.annotation
        if i < len(parts) - 1:
            if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
                return False
            model = ann
    return True


def news_monitor_commands() -> list[tuple[str, list[str]]]:
    """Every news-monitor command line in compose and the Dockerfile's CMD."""
    found = []
    for name, svc in compose()["services"].items():
        cmd = svc.get("command")
        if isinstance(cmd, list) and cmd and cmd[0] == "news-monitor":
            found.append((name, cmd))
    for ins, args in final_stage(dockerfile()):
        if ins == "CMD":
            found.append(("Dockerfile CMD", json.loads(args)))
    return found


# --- Dockerfile --------------------------------------------------------------


def test_dockerfile_every_stage_is_python_311_slim() -> None:
    froms = [args.split()[0] for ins, args in dockerfile() if ins == "FROM"]
    assert froms, "no FROM"
    assert all(re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", f) for f in froms), froms


def test_dockerfile_runs_as_a_non_root_user() -> None:
    stage = final_stage(dockerfile())
    users = [(i, args.strip()) for i, (ins, args) in enumerate(stage) if ins == "USER"]
    assert users, "the final stage never switches user"
    last_index, user = users[-1]
    assert user.split(":")[0] not in {"root", "0"}
    # Nothing after USER may run as root again: the last RUN comes before it.
    runs = [i for i, (ins, _) in enumerate(stage) if ins == "RUN"]
    assert max(runs) < last_index
    created = " ".join(args for ins, args in stage if ins == "RUN")
    assert "useradd" in created and user in created


def test_dockerfile_installs_the_package() -> None:
    runs = " ".join(args for ins, args in dockerfile() if ins == "RUN")
    assert re.search(r"pip (install|wheel)\b[^&]*\s\.(\s|$)", runs), "the project is not built"
    assert "pip install" in " ".join(a for i, a in final_stage(dockerfile()) if i == "RUN")


def test_dockerfile_copies_only_existing_allowed_paths() -> None:
    """Every COPY from the build context finds files there once .dockerignore is applied."""
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in [line.strip() for line in ignore], ".dockerignore should be an allowlist"
    for stage in docker.stages(ROOT / "Dockerfile"):
        for copy in stage.copies():
            if copy.from_stage is None:
                for src in copy.sources:
                    assert docker.context_files(src), f"COPY {src}: not in the build context"


def test_dockerignore_matcher_follows_docker_rules() -> None:
    patterns = docker.ignore_patterns(ROOT / ".dockerignore")
    assert not docker.ignored("monitor/cli.py", patterns)
    assert not docker.ignored("config/monitor.yaml", patterns)
    assert docker.ignored("monitor/__pycache__/cli.cpython-311.pyc", patterns)
    assert docker.ignored(".venv/bin/python", patterns)
    assert docker.ignored("state/monitor.db", patterns)
    assert docker.ignored("kafka.env", patterns)


def test_dockerignore_keeps_local_state_and_secrets_out() -> None:
    allowed = {
        line[1:].strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    assert not {a for a in allowed if "env" in a or "state" in a or a.startswith(".")}


def test_dockerfile_env_has_no_secrets_and_only_real_settings() -> None:
    env = image_env()
    assert env, "expected container defaults in ENV"
    for key, value in env.items():
        assert not is_secret_key(key), f"secret in ENV: {key}"
        assert not re.search(r"(?i)(password|secret|token)", value), key
        if key.startswith(ENV_PREFIX):
            assert setting_exists(key), f"{key} is not a settings key"
    for ins, args in dockerfile():
        if ins == "ARG":
            assert not is_secret_key(args.split("=")[0]), f"secret build arg: {args}"


def test_dockerfile_state_lives_on_the_volume() -> None:
    stage = final_stage(dockerfile())
    volumes = [json.loads(args) for ins, args in stage if ins == "VOLUME"]
    assert [STATE_DIR] in volumes
    assert Path(image_env()["NEWS_MONITOR_STATE__PATH"]).parent == Path(STATE_DIR)


def test_dockerfile_healthcheck_uses_the_stdlib_on_healthz() -> None:
    checks = [args for ins, args in final_stage(dockerfile()) if ins == "HEALTHCHECK"]
    assert len(checks) == 1
    options, _, cmd = checks[0].partition("CMD ")
    assert "--interval=" in options and "--timeout=" in options
    argv = json.loads(cmd)
    assert argv[:2] == ["python", "-c"]
    assert "/healthz" in argv[2]
    assert not re.search(r"\b(curl|wget)\b", argv[2])


def test_dockerfile_cmd_runs_the_daemon() -> None:
    cmds = [json.loads(args) for ins, args in final_stage(dockerfile()) if ins == "CMD"]
    assert cmds == [["news-monitor", "run", "--config", CONFIG_IN_CONTAINER]]


# --- the probe itself, against a real server -----------------------------------


def run_probe(code: str, port: int) -> int:
    env = {"NEWS_MONITOR_OBSERVE__PORT": str(port), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, timeout=30, check=False
    )
    return done.returncode


def test_the_image_probe_passes_on_a_live_server_and_fails_without_one() -> None:
    code = json.loads(next(a for i, a in dockerfile() if i == "HEALTHCHECK").partition("CMD ")[2])[
        2
    ]
    srv = ObserveServer(ObserveSettings(port=0), Metrics(), Readiness())
    srv.start()
    port = srv.port
    try:
        assert run_probe(code, port) == 0
    finally:
        srv.stop()
    assert run_probe(code, port) != 0


# --- docker-compose.yml ---------------------------------------------------------


def kafka_listeners() -> dict[str, int]:
    env = env_of(service("kafka"))
    out = {}
    for item in env["KAFKA_LISTENERS"].split(","):
        name, _, addr = item.partition("://")
        out[name] = int(addr.rsplit(":", 1)[1])
    return out


def advertised() -> dict[str, str]:
    env = env_of(service("kafka"))
    return dict(
        item.split("://", 1)  # type: ignore[misc]
        for item in env["KAFKA_ADVERTISED_LISTENERS"].split(",")
    )


def test_compose_has_the_services() -> None:
    assert {"kafka", "topics", "worker", "consumer", "replay"} <= set(compose()["services"])


def test_kafka_is_the_official_image_pinned_to_4x() -> None:
    for name in ("kafka", "topics"):
        assert re.fullmatch(r"apache/kafka:4\.\d+\.\d+", service(name)["image"]), name


def test_kafka_runs_kraft_single_node() -> None:
    env = env_of(service("kafka"))
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    node = env["KAFKA_NODE_ID"]
    listeners = kafka_listeners()
    assert set(listeners) == {"PLAINTEXT", "PLAINTEXT_HOST", "CONTROLLER"}
    assert env["KAFKA_CONTROLLER_LISTENER_NAMES"] == "CONTROLLER"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{node}@kafka:{listeners['CONTROLLER']}"
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "PLAINTEXT"
    protocol_map = dict(
        p.split(":") for p in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(",")
    )
    assert set(protocol_map) == set(listeners)
    # The controller is never advertised to clients.
    ads = advertised()
    assert set(ads) == {"PLAINTEXT", "PLAINTEXT_HOST"}
    assert ads["PLAINTEXT"] == f"kafka:{listeners['PLAINTEXT']}"
    assert ads["PLAINTEXT_HOST"] == f"127.0.0.1:{listeners['PLAINTEXT_HOST']}"
    assert service("kafka")["hostname"] == "kafka"
    # The image insists on a cluster id in KRaft mode: 16 bytes, base64url.
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])


def test_kafka_internal_topics_fit_one_broker() -> None:
    env = env_of(service("kafka"))
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR",
    ):
        assert env[key] == "1", key


def test_kafka_publishes_host_port_keeps_data_and_checks_health() -> None:
    kafka = service("kafka")
    host_port = kafka_listeners()["PLAINTEXT_HOST"]
    assert kafka["ports"] == [f"127.0.0.1:{host_port}:{host_port}"]
    # Not the local development broker's port (devkafka, the config's default).
    assert host_port != int(KafkaSettings().bootstrap_servers.rsplit(":", 1)[1])
    log_dir = env_of(kafka)["KAFKA_LOG_DIRS"]
    named = {v.split(":")[0]: v.split(":")[1] for v in kafka["volumes"]}
    assert log_dir in named.values()
    test = kafka["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert test[1] == "/opt/kafka/bin/kafka-broker-api-versions.sh"
    assert test[2:] == ["--bootstrap-server", f"127.0.0.1:{host_port}"]
    assert {"interval", "timeout", "retries"} <= set(kafka["healthcheck"])


def test_topics_are_created_once_kafka_is_healthy() -> None:
    topics = service("topics")
    assert topics["depends_on"] == {"kafka": {"condition": "service_healthy"}}
    assert topics["entrypoint"] == ["/bin/sh", "-c"]
    [script] = topics["command"]
    settings = load_settings(ROOT / "config" / "monitor.yaml")
    in_network = advertised()["PLAINTEXT"]
    creates = [line for line in script.splitlines() if "--create" in line]
    names = {line.split("--topic ")[1].split()[0] for line in creates}
    assert names == {settings.kafka.topic, settings.kafka.deadletter_topic}
    for line in creates:
        assert "kafka-topics.sh" in line and "--if-not-exists" in line
        assert f"--bootstrap-server {in_network}" in line
    assert "set -e" in script
    assert topics.get("restart") == "no"


@pytest.mark.parametrize("name", ["worker", "consumer", "replay", "fetch", "stories"])
def test_monitor_services_reach_kafka_inside_the_network(name: str) -> None:
    svc = service(name)
    env = env_of(svc)
    assert env["NEWS_MONITOR_KAFKA__BOOTSTRAP_SERVERS"] == advertised()["PLAINTEXT"]
    assert svc["depends_on"] == {
        "kafka": {"condition": "service_healthy"},
        "topics": {"condition": "service_completed_successfully"},
    }
    assert svc["image"] == MONITOR_IMAGE
    assert "./config:/app/config:ro" in svc["volumes"]
    assert svc["command"][-2:] == ["--config", CONFIG_IN_CONTAINER]


def test_every_news_monitor_command_is_a_real_subcommand() -> None:
    commands = news_monitor_commands()
    assert len(commands) >= 4
    for where, argv in commands:
        assert argv[1] in SUBCOMMANDS, f"{where}: unknown subcommand {argv[1]!r}"


def test_every_news_monitor_variable_is_a_real_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, svc in compose()["services"].items():
        env = env_of(svc)
        keys = [k for k in env if k.startswith(ENV_PREFIX)]
        for key in keys:
            assert setting_exists(key), f"{name}: {key} is not a settings key"
        if not keys:
            continue
        # And the values validate together with the shipped config and image defaults.
        for key, value in {**image_env(), **env}.items():
            if key.startswith(ENV_PREFIX):
                monkeypatch.setenv(key, value)
        load_settings(ROOT / "config" / "monitor.yaml")
        for key in {**image_env(), **env}:
            monkeypatch.delenv(key, raising=False)


def test_no_literal_secrets_in_compose() -> None:
    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                if isinstance(k, str) and is_secret_key(k) and isinstance(v, str | int):
                    assert re.fullmatch(r"\$\{\w+(:?[-?][^}]*)?\}", str(v)), f"{path}.{k}"
                walk(v, f"{path}.{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{path}[{i}]")

    walk(compose(), "compose")


def test_worker_keeps_state_on_a_named_volume_and_is_watched() -> None:
    doc = compose()
    worker = service("worker")
    mounts = dict(v.rsplit(":", 1)[::-1] for v in worker["volumes"] if v.count(":") == 1)
    assert mounts[STATE_DIR] in doc["volumes"]
    assert worker["restart"] == "unless-stopped"
    assert worker["init"] is True
    port = int(image_env()["NEWS_MONITOR_OBSERVE__PORT"])
    assert worker["ports"] == [f"127.0.0.1:{port}:{port}"]
    # The compose probe is the image's probe (one definition of "alive").
    image_probe = json.loads(
        next(a for i, a in dockerfile() if i == "HEALTHCHECK").partition("CMD ")[2]
    )[2]
    assert healthcheck_python(worker["healthcheck"]["test"]) == image_probe
    grace = worker["stop_grace_period"]
    assert int(grace.rstrip("s")) > 10  # SIGTERM must be able to finish in 10 s


def test_published_ports_are_reachable_from_this_host_only() -> None:
    for name, svc in compose()["services"].items():
        for mapping in svc.get("ports", []):
            assert str(mapping).startswith("127.0.0.1:"), f"{name}: {mapping} binds every interface"


def test_the_monitor_image_is_built_once_and_never_pulled() -> None:
    """One service builds the image; the others run it. Compose (v2, pkg/compose/pull.go)
    would otherwise try to pull `news-monitor:local` from a registry for them."""
    services = compose()["services"]
    builders = [name for name, svc in services.items() if "build" in svc]
    assert builders == ["worker"]
    assert services["worker"]["build"] == "."
    assert services["worker"]["pull_policy"] == "build"
    users = [n for n, svc in services.items() if svc.get("image") == MONITOR_IMAGE]
    assert set(users) == {"worker", "consumer", "replay", "fetch", "stories"}
    for name in set(users) - {"worker"}:
        assert services[name]["pull_policy"] == "never", name


def test_services_without_the_endpoint_disable_the_image_probe() -> None:
    for name in ("consumer", "replay"):
        assert service(name)["healthcheck"] == {"disable": True}, name


def test_consumer_reads_from_the_beginning() -> None:
    cmd = service("consumer")["command"]
    assert cmd[:3] == ["news-monitor", "consume", "--from-beginning"]
    assert service("consumer")["restart"] == "unless-stopped"


def test_replay_is_an_opt_in_one_shot_over_the_seeds() -> None:
    replay = service("replay")
    assert replay["profiles"] == ["replay"]
    assert replay["command"][:3] == ["news-monitor", "replay", "/app/seeds"]
    assert "./seeds:/app/seeds:ro" in replay["volumes"]
    assert (ROOT / "seeds").is_dir() and any((ROOT / "seeds").glob("*.txt"))
    assert replay["restart"] == "no"
    # Its own state file, never the worker's.
    assert env_of(replay)["NEWS_MONITOR_STATE__PATH"] != image_env()["NEWS_MONITOR_STATE__PATH"]


def test_named_volumes_are_declared() -> None:
    doc = compose()
    declared = set(doc["volumes"])
    for name, svc in doc["services"].items():
        for vol in svc.get("volumes", []):
            src = vol.split(":")[0]
            if not src.startswith((".", "/")):
                assert src in declared, f"{name}: volume {src} not declared"


def test_no_accidental_compose_interpolation() -> None:
    # Compose expands $VAR everywhere, shell scripts and probes included; only
    # ${VAR} references and escaped $$ are meant.
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        stripped = re.sub(r"\$\$|\$\{\w+(:?[-?][^}]*)?\}", "", line)
        assert "$" not in stripped, f"docker-compose.yml:{lineno}: bare $ in {line.strip()!r}"
