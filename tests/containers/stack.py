"""Drive the compose stacks from tests: scripts/stack.sh for the development stack, plain
`docker compose` for the production file, `docker` for killing a replica."""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.servers import REPO_ROOT, free_port

STACK_SH = REPO_ROOT / "scripts" / "stack.sh"
BUILD_IMAGES = REPO_ROOT / "scripts" / "build-images.sh"
# A cold build (base images from Debian's packages, every dependency) takes minutes.
BUILD_TIMEOUT_S = 1800


def run(
    command: list[str], env: dict[str, str] | None = None, timeout: float = 600, check: bool = True
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} exited with {result.returncode}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-8000:]}"
        )
    return result


def wait_for_background_build() -> None:
    """scripts/test.sh builds the images in the background while the other tests run and names
    a file that gets the build's exit status; a failed build is for build_images() to report
    again, with its output, so only the waiting happens here."""
    done_file = os.environ.get("IMAGE_BUILD_DONE_FILE")
    if not done_file:
        return
    deadline = time.monotonic() + BUILD_TIMEOUT_S
    while not Path(done_file).exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"the background image build did not end in {BUILD_TIMEOUT_S} s")
        time.sleep(2)


def require_docker() -> None:
    """Docker must answer: scripts/test.sh installs and starts it (scripts/docker-setup.sh),
    and the images it builds in the background must be ready."""
    wait_for_background_build()
    probe = subprocess.run(["docker", "info"], capture_output=True, text=True)
    compose = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0 or compose.returncode != 0:
        raise AssertionError(
            "Docker with the compose plugin is needed for the container tests: run them through "
            "scripts/test.sh, or as root scripts/docker-setup.sh first.\n"
            f"{probe.stderr[-2000:]}{compose.stderr[-1000:]}"
        )


def build_images(env: dict[str, str] | None = None) -> dict[str, str]:
    """scripts/build-images.sh (fast when the images exist); its NAME=image lines."""
    output = run(["bash", str(BUILD_IMAGES)], env=env, timeout=BUILD_TIMEOUT_S).stdout
    return dict(line.split("=", 1) for line in output.splitlines() if "=" in line)


@dataclass
class Stack:
    """One compose project: its name, file, env file and the port nginx publishes."""

    project: str
    compose_file: Path
    env_file: Path
    port: int
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def compose(
        self, *args: str, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return run(
            [
                "docker",
                "compose",
                "-p",
                self.project,
                "-f",
                str(self.compose_file),
                "--env-file",
                str(self.env_file),
                *args,
            ],
            env=self.env,
            timeout=timeout,
            check=check,
        )

    def container_ids(self, service: str) -> list[str]:
        return self.compose("ps", "-q", service).stdout.split()

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, timeout=60, headers=headers)


def dev_stack(tmp_dir: Path, **settings: str) -> Stack:
    """Settings for scripts/stack.sh on a free port with its own project and env file."""
    port = free_port()
    env = {
        **os.environ,
        "STACK_PORT": str(port),
        "STACK_PROJECT": f"toxiclf-test-{secrets.token_hex(3)}",
        "STACK_ENV_FILE": str(tmp_dir / "stack.env"),
        "BUILD_LOG_DIR": str(tmp_dir / "build-logs"),
        **settings,
    }
    return Stack(
        env["STACK_PROJECT"],
        REPO_ROOT / "infra-dev" / "docker-compose.yml",
        tmp_dir / "stack.env",
        port,
        env,
    )


def stack_sh(
    stack: Stack, *args: str, timeout: float = BUILD_TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    return run(["bash", str(STACK_SH), *args], env=stack.env, timeout=timeout)


def wait_until(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            last = check()  # type: ignore[operator]
            if last:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{what} not within {timeout}s (last: {last!r})")
