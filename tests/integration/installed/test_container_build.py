"""The container build, without Docker: the wheel comes from exactly what the build stage copies.

`image_root` replays every COPY of the Dockerfile from the build context (.dockerignore
applied) into a folder standing for the image's `/`; `wheel` is built where the build
stage runs `pip wheel`. So a COPY list that misses something the package needs, or a
.dockerignore that drops it, fails here as it would fail `docker build`.
"""

from __future__ import annotations

import json
import re
import shlex
import tomllib
import zipfile
from pathlib import Path

from tests.integration.installed import dockerfile
from tests.integration.installed.product import Installed

ROOT = dockerfile.ROOT
SEEDS = sorted(p.name for p in (ROOT / "seeds").glob("*.txt"))
DEVKAFKA_IMPORT = re.compile(r"^\s*(?:from|import)\s+(?:monitor\.)?devkafka\b", re.M)


def runtime() -> dockerfile.Stage:
    return dockerfile.stages()[-1]


def run_words(stage: dockerfile.Stage, command: str) -> list[str]:
    """The words of the RUN step that runs `command` (up to the next `&&`)."""
    for args in stage.all("RUN"):
        if command in args:
            words = shlex.split(args[args.index(command) :])
            return words[: words.index("&&")] if "&&" in words else words
    raise AssertionError(f"no RUN with {command!r}")


def option(words: list[str], *names: str) -> str:
    """The value of `--name VALUE` or `--name=VALUE` among `words`."""
    for i, word in enumerate(words):
        for name in names:
            if word == name:
                return words[i + 1]
            if word.startswith(name + "="):
                return word.split("=", 1)[1]
    raise AssertionError(f"none of {names} in {' '.join(words)}")


def image_env(image_root: Path) -> dict[str, str]:
    """The runtime stage's ENV, with absolute paths moved under `image_root`."""
    env: dict[str, str] = {}
    for args in runtime().all("ENV"):
        tokens = shlex.split(args)
        pairs = (
            [t.split("=", 1) for t in tokens]
            if "=" in tokens[0]
            else [[tokens[0], " ".join(tokens[1:])]]
        )
        env.update({k: v for k, v in pairs})
    return {
        k: str(dockerfile.in_image(image_root, v)) if v.startswith("/") else v
        for k, v in env.items()
    }


def test_the_build_context_holds_every_folder_pyproject_maps(image_root: Path) -> None:
    """Each package's folder (package-dir mappings included) and the readme are copied."""
    project = dockerfile.in_image(image_root, dockerfile.build_stage().workdir_of("pip wheel"))
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    tool = meta["tool"]["setuptools"]
    mapped: dict[str, str] = tool.get("package-dir", {})
    for package in tool["packages"]:
        folder = mapped.get(package, package.replace(".", "/"))
        assert (project / folder).is_dir(), (
            f"package {package}: folder {folder}/ is not in the Dockerfile's build stage"
            " (add a COPY line for it, and keep it in .dockerignore's allowlist)"
        )
    assert (project / meta["project"]["readme"]).is_file()


def test_the_wheel_carries_the_defaults_schemas_and_console_script(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        scripts = zf.read(entry_points).decode()
    for data in sorted((ROOT / "config").glob("*.yaml")):
        assert f"monitor/defaults/{data.name}" in names, data.name
    assert "monitor/schemas/story-v1.json" in names
    assert "monitor/py.typed" in names
    assert {"connectors/__init__.py", "monitor/cli.py", "monitor/clean/html.py"} <= names
    assert {"monitor/roles/fetch.py", "monitor/schemas/item-v1.json"} <= names  # run --role
    assert "news-monitor = monitor.cli:main" in scripts


def test_the_runtime_installs_the_wheels_the_build_stage_wrote() -> None:
    build = dockerfile.build_stage()
    assert build.name, "the build stage needs a name for COPY --from"
    wheel_dir = option(run_words(build, "pip wheel"), "--wheel-dir", "-w")
    from_build = [c for c in runtime().copies() if c.from_stage == build.name]
    assert [(c.sources, c.dest) for c in from_build] == [((wheel_dir,), wheel_dir)]
    install = run_words(runtime(), "pip install")
    assert "--no-index" in install
    assert option(install, "--find-links", "-f") == wheel_dir
    assert install[-1] == "news-monitor"


def test_the_image_cmd_config_is_valid_for_the_installed_command(
    installed: Installed, image_root: Path
) -> None:
    """The CMD's --config exists where the runtime COPYs put it and passes check-config."""
    [cmd] = [json.loads(args) for args in runtime().all("CMD")]
    assert Path(cmd[0]).name == installed.command.name, cmd
    config = cmd[cmd.index("--config") + 1]
    copied = dockerfile.in_image(image_root, config)
    assert copied.is_file(), f"CMD --config {config}: no runtime COPY puts a file there"
    cwd = dockerfile.in_image(image_root, runtime().all("WORKDIR")[-1])
    done = installed.run("check-config", str(copied), cwd=cwd, env=image_env(image_root))
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout


def test_the_image_replays_its_seeds_with_the_installed_command(
    installed: Installed, image_root: Path, tmp_path: Path
) -> None:
    """What compose's `replay` service runs, with the image's files, ENV and WORKDIR."""
    seeds = dockerfile.in_image(image_root, "/app/seeds")
    assert sorted(p.name for p in seeds.glob("*.txt")) == SEEDS
    env = image_env(image_root)
    env["NEWS_MONITOR_STATE__PATH"] = str(tmp_path / "replay.db")  # a fresh state per run
    out = tmp_path / "messages.jsonl"
    done = installed.run(
        "replay",
        str(seeds),
        "--config",
        str(dockerfile.in_image(image_root, "/app/config/monitor.yaml")),
        "--sink",
        f"jsonl:{out}",
        cwd=dockerfile.in_image(image_root, "/app"),
        env=env,
    )
    assert done.returncode == 0, done.stderr
    messages = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert {m["article"]["source"] for m in messages} == set(SEEDS)


def test_the_wheel_carries_no_development_tools(wheel: Path) -> None:
    """The local broker launcher (scripts/devkafka) is a development tool, not the product."""
    with zipfile.ZipFile(wheel) as zf:
        modules = [n for n in zf.namelist() if n.endswith(".py")]
        importing = [n for n in modules if re.search(DEVKAFKA_IMPORT, zf.read(n).decode())]
    assert [n for n in modules if "devkafka" in n] == []
    assert importing == [], "the product must not import the development tool devkafka"


def test_the_build_context_does_not_need_the_broker_launcher(image_root: Path) -> None:
    """Nothing the image copies imports devkafka, and the launcher is not copied."""
    copied = sorted(p for p in image_root.rglob("*") if p.is_file())
    assert [p for p in copied if "devkafka" in p.name] == []
    importing = [
        p
        for p in copied
        if p.suffix == ".py" and re.search(DEVKAFKA_IMPORT, p.read_text(encoding="utf-8"))
    ]
    assert importing == []
