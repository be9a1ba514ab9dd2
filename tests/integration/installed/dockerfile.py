"""The Dockerfile and .dockerignore as data, and a stage's COPY lines replayed into a folder.

No Docker engine is needed: the build context is the repository filtered by
.dockerignore (the matcher follows moby/patternmatcher: patterns in order, the last
match wins, a pattern that matches a parent folder matches everything under it), and
COPY follows Docker's rules (a folder's contents go into the destination; several
sources need a destination ending in `/`).
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Instruction:
    """One Dockerfile instruction: `COPY`, `RUN`, ... and its arguments as written."""

    name: str
    args: str


@dataclass(frozen=True)
class Copy:
    """A COPY line: its sources, destination, and `--from` stage (None: the build context)."""

    sources: tuple[str, ...]
    dest: str
    from_stage: str | None
    workdir: str
    """The WORKDIR in effect, against which a relative `dest` resolves."""


@dataclass
class Stage:
    """One `FROM ... [AS name]` stage and its instructions."""

    base: str
    name: str | None
    instructions: list[Instruction] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        """The arguments of every instruction called `name`, in order."""
        return [i.args for i in self.instructions if i.name == name]

    def copies(self) -> list[Copy]:
        """Every COPY of the stage, with the WORKDIR it runs in."""
        out, workdir = [], "/"
        for ins in self.instructions:
            if ins.name == "WORKDIR":
                workdir = str(PurePosixPath(workdir, ins.args.strip()))
            elif ins.name == "COPY":
                out.append(parse_copy(ins.args, workdir))
        return out

    def workdir_of(self, predicate: str) -> str:
        """The WORKDIR in effect for the first RUN containing `predicate`."""
        workdir = "/"
        for ins in self.instructions:
            if ins.name == "WORKDIR":
                workdir = str(PurePosixPath(workdir, ins.args.strip()))
            elif ins.name == "RUN" and predicate in ins.args:
                return workdir
        raise AssertionError(f"no RUN with {predicate!r} in stage {self.name or self.base}")


def instructions(path: Path = ROOT / "Dockerfile") -> list[Instruction]:
    """The Dockerfile as instructions: continuations joined, comments and blanks dropped."""
    out: list[Instruction] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # also inside a continuation, as Docker does
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        name, _, args = line.partition(" ")
        out.append(Instruction(name.upper(), args.strip()))
    assert not pending, f"{path.name} ends inside a line continuation"
    return out


def stages(path: Path = ROOT / "Dockerfile") -> list[Stage]:
    """The Dockerfile's stages in order (the last one is the image)."""
    out: list[Stage] = []
    for ins in instructions(path):
        if ins.name == "FROM":
            words = ins.args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            out.append(Stage(base=words[0], name=name))
        else:
            assert out, f"{path.name}: {ins.name} before the first FROM"
            out[-1].instructions.append(ins)
    return out


def build_stage(path: Path = ROOT / "Dockerfile") -> Stage:
    """The stage that builds the package (`pip wheel`)."""
    found = [s for s in stages(path) if any("pip wheel" in r for r in s.all("RUN"))]
    assert len(found) == 1, f"{path.name}: expected one stage running `pip wheel`"
    return found[0]


def parse_copy(args: str, workdir: str = "/") -> Copy:
    """Parse COPY's flags (`--from`, `--chown`, ...) and its shell or JSON form."""
    words = json.loads(args) if args.startswith("[") else shlex.split(args)
    from_stage = None
    while words and words[0].startswith("--"):
        flag = words.pop(0)
        if flag.startswith("--from="):
            from_stage = flag.split("=", 1)[1]
    assert len(words) >= 2, f"COPY {args}: needs a source and a destination"
    *sources, dest = words
    return Copy(tuple(sources), dest, from_stage, workdir)


# --- .dockerignore ------------------------------------------------------------


@dataclass(frozen=True)
class IgnorePattern:
    """One .dockerignore line as a regular expression over `/`-separated paths."""

    regex: re.Pattern[str]
    depth: int
    """How many path components the pattern has (it also matches parents that deep)."""
    exclusion: bool
    """A `!pattern`: what it matches goes back into the context."""


def _to_regex(pattern: str) -> re.Pattern[str]:
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def ignore_patterns(path: Path = ROOT / ".dockerignore") -> list[IgnorePattern]:
    """The .dockerignore lines, in order (missing file: nothing is ignored)."""
    if not path.exists():
        return []
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        text = str(PurePosixPath(line.removeprefix("!").strip())).lstrip("/")
        out.append(IgnorePattern(_to_regex(text), len(text.split("/")), exclusion))
    return out


def ignored(rel: str, patterns: list[IgnorePattern]) -> bool:
    """Whether the file at context-relative path `rel` is left out of the build context."""
    parts = rel.split("/")
    result = False
    for pattern in patterns:
        hit = pattern.regex.fullmatch(rel) is not None
        if not hit and len(parts) > 1 and pattern.depth < len(parts):
            hit = pattern.regex.fullmatch("/".join(parts[: pattern.depth])) is not None
        if hit:
            result = not pattern.exclusion
    return result


def context_files(source: str, root: Path = ROOT) -> list[Path]:
    """The files a COPY source names, as the build context has them (after .dockerignore)."""
    patterns = ignore_patterns(root / ".dockerignore")
    matches = sorted(root.glob(source)) if any(c in source for c in "*?[") else [root / source]
    files: list[Path] = []
    for match in matches:
        candidates = sorted(p for p in match.rglob("*") if p.is_file()) if match.is_dir() else []
        if match.is_file():
            candidates = [match]
        files += [p for p in candidates if not ignored(p.relative_to(root).as_posix(), patterns)]
    return files


def copy_into(copy: Copy, fs_root: Path, root: Path = ROOT) -> list[Path]:
    """Replay one COPY from the build context into `fs_root` (standing for the image's `/`).

    Returns the destination paths written; raises AssertionError naming the source when
    the build context has nothing for it (Docker would fail the build there).
    """
    assert copy.from_stage is None, "copies from another stage are not in the build context"
    dest = PurePosixPath(copy.workdir, copy.dest)
    into_dir = copy.dest.endswith("/") or copy.dest in (".", "./") or len(copy.sources) > 1
    assert len(copy.sources) == 1 or copy.dest.endswith("/"), (
        f"COPY {' '.join(copy.sources)} {copy.dest}: several sources need a destination ending in /"
    )
    written: list[Path] = []
    for source in copy.sources:
        files = context_files(source, root)
        assert files, (
            f"COPY {source}: not in the build context (missing, or excluded by .dockerignore)"
        )
        base = root / source
        for file in files:
            if base.is_dir():  # a folder's contents go into the destination
                target = PurePosixPath(dest, file.relative_to(base).as_posix())
            elif into_dir:
                target = PurePosixPath(dest, file.name)
            else:
                target = dest
            out = fs_root / str(target).lstrip("/")
            out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(file, out)
            written.append(out)
    return written


def in_image(fs_root: Path, path: str) -> Path:
    """Where the image path `path` (absolute) lives under `fs_root`."""
    return fs_root / path.lstrip("/")
