"""nginx (the shipped deploy/nginx/cqbys.conf, checked with `nginx -t`) in front of two
`python -m app serve` processes on one database and Redis, started and stopped by the
caller: the multi-process tests (tests/test_deploy_nginx.py, tests/test_cluster_hall.py)
and the benchmarks behind nginx (bench/cluster_ping.py, bench/hall_load.py --mode cluster)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path
from typing import AsyncIterator

from app.config import Settings

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
HAVE_NGINX = Path(NGINX).exists()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site_for_test(tmp: Path, http_port: int, https_port: int, app_ports: list[int],
                  worker_connections: int = 256) -> str:
    """The shipped site with only the operator's EDIT values changed: ports, certificate,
    static folder. Each replaced text must be there, so the test follows the file."""
    site = (ROOT / "deploy/nginx/cqbys.conf").read_text()
    servers = "\n    ".join(f"server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in app_ports)
    swaps = [
        ("server 127.0.0.1:8001 max_fails=1 fail_timeout=5s;  # EDIT: one line per app process\n"
         "    server 127.0.0.1:8002 max_fails=1 fail_timeout=5s;", servers),
        ("listen 80;\n    listen [::]:80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;\n    listen [::]:443 ssl http2;",
         f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("/etc/ssl/cqbys/fullchain.pem", str(tmp / "cert.pem")),
        ("/etc/ssl/cqbys/privkey.pem", str(tmp / "key.pem")),
        ("alias /srv/cqbys/app/static/;", f"alias {ROOT / 'static'}/;"),
    ]
    for old, new in swaps:
        assert old in site, f"deploy/nginx/cqbys.conf no longer has {old!r}"
        site = site.replace(old, new)
    temp = "\n".join(f"    {kind}_temp_path {tmp / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"worker_processes 1;\ndaemon off;\npid {tmp / 'nginx.pid'};\n"
            f"error_log {tmp / 'error.log'} warn;\nevents {{ worker_connections {worker_connections}; }}\n"
            f"http {{\n    include /etc/nginx/mime.types;\n    access_log {tmp / 'access.log'};\n"
            f"{temp}\n{site}\n}}\n")


async def _serve(port: int, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port),
        cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=log.open("wb"))
    # `serve` prints its address once it listens
    line = await asyncio.wait_for(proc.stdout.readline(), 60)
    assert "服务已启动" in line.decode(), (line, log.read_text())
    return proc


async def _listening(port: int) -> None:
    """nginx has no ready signal: try its port until it accepts (a few tries at most)."""
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise AssertionError(f"nothing listens on {port}")


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()


@dataclasses.dataclass
class Cluster:
    base: str  # https through nginx
    http_port: int
    app_ports: list[int]
    procs: list[asyncio.subprocess.Process]

    def direct(self, i: int) -> str:
        return f"http://127.0.0.1:{self.app_ports[i]}"


@contextlib.asynccontextmanager
async def cluster(tmp_path: Path, settings: Settings, worker_connections: int = 256,
                  **extra_env: str) -> AsyncIterator[Cluster]:
    """nginx (checked with `nginx -t` first) in front of two app processes on the test's
    database and Redis (a channel of its own). worker_connections: nginx's, two per
    proxied socket (a benchmark with a thousand clients raises it)."""
    tmp = tmp_path / "nginx"
    tmp.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-keyout", str(tmp / "key.pem"),
                    "-out", str(tmp / "cert.pem")], check=True, capture_output=True)
    http_port, https_port = free_port(), free_port()
    app_ports = [free_port(), free_port()]
    conf = tmp / "nginx.conf"
    conf.write_text(site_for_test(tmp, http_port, https_port, app_ports, worker_connections))
    check = subprocess.run([NGINX, "-t", "-p", str(tmp), "-c", str(conf), "-e",
                            str(tmp / "error.log")], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert "syntax is ok" in check.stderr

    base = f"https://127.0.0.1:{https_port}"
    env = {**os.environ, "DATABASE_URL": settings.database_url, "DATA_DIR": str(settings.data_dir),
           "SECRET_KEY": settings.secret_key, "PUBLIC_BASE_URL": base,
           "REDIS_URL": f"redis://127.0.0.1:6379/0?channel=test-{uuid.uuid4().hex[:10]}",
           "TRUSTED_PROXIES": "127.0.0.1", "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1",
           **extra_env}
    procs: list[asyncio.subprocess.Process] = []
    nginx = None
    try:
        for i, port in enumerate(app_ports):
            procs.append(await _serve(port, env, tmp_path / f"app{i}.log"))
        nginx = await asyncio.create_subprocess_exec(
            NGINX, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log"),
            stdout=asyncio.subprocess.DEVNULL, stderr=(tmp_path / "nginx.out").open("wb"))
        await _listening(https_port)
        yield Cluster(base, http_port, app_ports, procs)
    finally:
        if nginx is not None:
            await _stop(nginx)
        for proc in procs:
            await _stop(proc)
