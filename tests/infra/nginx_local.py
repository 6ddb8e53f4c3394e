"""Run the project's NGINX template with a local nginx binary, as the nginx image would.

The official nginx image renders `/etc/nginx/templates/*.template` with envsubst into
`/etc/nginx/conf.d/`, substituting only the variables set in its environment, and includes
that directory inside `http {}`. `render_template` does the same substitution; `write_config`
wraps the result in a minimal main config whose pid, logs and temp files live in one directory,
so nginx runs unprivileged on a free port.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]
NGINX_TEMPLATE = REPO_ROOT / "infra" / "nginx" / "default.conf.template"
PLACEHOLDER = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
MIME_TYPES = Path("/etc/nginx/mime.types")


def template_variables(text: str) -> set[str]:
    """The `${NAME}` placeholders of a template (nginx's own variables are lowercase)."""
    return set(PLACEHOLDER.findall(text))


def render_template(text: str, variables: dict[str, str]) -> str:
    """Substitute `$NAME` and `${NAME}` for the given names only, like `envsubst '$NAME ...'`."""
    for name, value in variables.items():
        pattern = re.compile(r"\$(?:\{" + name + r"\}|" + name + r"(?![A-Za-z0-9_]))")
        text = pattern.sub(lambda _match, value=value: value, text)
    return text


def find_nginx() -> str:
    """The nginx binary; `.ci/run` installs it with apt-get."""
    # /usr/sbin is often not on a non-root user's PATH.
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if binary is None:
        raise RuntimeError(
            "nginx is not installed: `bash .ci/run` installs it (apt-get install nginx); "
            "on a developer machine run `sudo apt-get install -y nginx`"
        )
    return binary


@dataclass
class NginxInstance:
    """A local nginx started from a rendered config in `root`."""

    binary: str
    root: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_dir(self) -> Path:
        return self.root / "logs"

    def command(self, *extra: str) -> list[str]:
        return [
            self.binary,
            "-p",
            f"{self.root}/",
            "-c",
            str(self.root / "nginx.conf"),
            "-e",
            str(self.log_dir / "startup-error.log"),
            *extra,
        ]

    def check_config(self) -> subprocess.CompletedProcess[str]:
        """`nginx -t` on the rendered config."""
        return subprocess.run(self.command("-t"), capture_output=True, text=True, timeout=30)

    def start(self, timeout: float = 15) -> None:
        output = (self.log_dir / "nginx.out").open("ab")
        self.process = subprocess.Popen(
            self.command("-g", "daemon off;"),
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.process.returncode}:\n{self.logs()}")
            try:
                if httpx.get(self.url + "/nginx-health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"nginx did not answer within {timeout}s:\n{self.logs()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def logs(self) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-4000:]}")
        return "\n".join(parts)


def write_config(root: Path, variables: dict[str, str]) -> Path:
    """Render the template into `root/conf.d/` and write `root/nginx.conf` around it."""
    (root / "conf.d").mkdir(parents=True, exist_ok=True)
    (root / "logs").mkdir(exist_ok=True)
    (root / "temp").mkdir(exist_ok=True)
    rendered = render_template(NGINX_TEMPLATE.read_text(), variables)
    leftover = template_variables(rendered)
    if leftover:
        raise ValueError(f"template variables left unrendered: {sorted(leftover)}")
    (root / "conf.d" / "default.conf").write_text(rendered)
    # As root, nginx's workers would switch to an unprivileged user that cannot write the
    # temp dirs below (pytest's tmp is mode 0700), so keep them as the current user.
    user_line = f"user {pwd.getpwuid(0).pw_name};" if os.geteuid() == 0 else ""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {root / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    main_config = f"""{user_line}
worker_processes 1;
pid {root / "nginx.pid"};
error_log {root / "logs" / "main-error.log"} warn;

events {{
    worker_connections 256;
}}

http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    sendfile on;
    keepalive_timeout 65;
{temp_paths}
    include {root / "conf.d"}/*.conf;
}}
"""
    path = root / "nginx.conf"
    path.write_text(main_config)
    return path
