"""Readers for the deployment files the static tests check: compose, env templates, Dockerfiles."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}|([A-Za-z_][A-Za-z0-9_]*))")
ASSIGNMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$")


def load_yaml(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    assert isinstance(document, dict), f"{path} is not a YAML mapping"
    return document


def compose_variables(path: Path) -> set[str]:
    """Names interpolated by compose (`${NAME}`, `${NAME:-x}`, `$NAME`); `$$` is a literal `$`."""
    text = "\n".join(
        line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")
    ).replace("$$", "")
    return {braced or bare for braced, bare in COMPOSE_VARIABLE.findall(text)}


def env_template(path: Path) -> dict[str, str]:
    """`NAME=value` lines of an env template; each must sit in a block under a comment line."""
    values: dict[str, str] = {}
    commented = False
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            commented = False
        elif stripped.startswith("#"):
            commented = True
        else:
            match = ASSIGNMENT.match(stripped)
            assert match, f"{path}:{number}: not NAME=value: {line!r}"
            assert commented, f"{path}:{number}: {match[1]} has no comment line saying what it is"
            values[match[1]] = match[2]
    return values


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Container path → source of a service's short-syntax volume mounts."""
    result: dict[str, str] = {}
    for entry in service.get("volumes", []):
        source, target = entry.split(":")[:2]
        result[target] = source
    return result


def is_named_volume(source: str) -> bool:
    return not source.startswith((".", "/", "~", "$"))


@dataclass
class DockerStage:
    base: str
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def arguments(self, keyword: str) -> list[str]:
        return [argument for name, argument in self.instructions if name == keyword]


def dockerfile_stages(path: Path) -> list[DockerStage]:
    """The stages of a Dockerfile, continuation lines joined, `ARG` defaults applied to FROM."""
    text = re.sub(r"\\\n", " ", path.read_text())
    build_args: dict[str, str] = {}
    stages: list[DockerStage] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        keyword, _, argument = stripped.partition(" ")
        keyword = keyword.upper()
        argument = argument.strip()
        if keyword == "ARG" and not stages:
            name, _, default = argument.partition("=")
            build_args[name] = default
        elif keyword == "FROM":
            image = argument.split()[0]
            for name, value in build_args.items():
                image = image.replace("${" + name + "}", value).replace("$" + name, value)
            stages.append(DockerStage(image))
        else:
            assert stages, f"{path}: {keyword} before the first FROM"
            stages[-1].instructions.append((keyword, argument))
    return stages
