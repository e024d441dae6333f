"""LOG_FORMAT=json (issue 12 item 4): one JSON object per line; every line written while a
request is handled carries its id, which the response returns in X-Request-ID; an id sent
by a trusted proxy is kept, one sent by anyone else is replaced."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

from app.logs import JsonFormatter
from app.web import create_app
from tests.mailbox import free_port
from tests.test_cli import cli_env

HEX_ID = re.compile(r"[0-9a-f]{32}")


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, str]:
    """Status and X-Request-ID of a GET (an error status is an answer too)."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, r.headers["X-Request-ID"]
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["X-Request-ID"]


def test_serve_writes_json_lines_with_the_request_id_of_each_access(database_url, tmp_path):
    """The real `python -m app serve`: aiohttp's access log in JSON, with the id the response
    carries; a forged X-Request-ID from a client that is no proxy of ours is not believed."""
    env = cli_env(database_url, tmp_path, LOG_FORMAT="json", LOG_LEVEL="INFO")
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, sent_back = _get(port, "/healthz", {"X-Request-ID": "forged-by-client"})
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)  # a separate process: nothing to await but its port
        missing_status, missing_id = _get(port, "/nowhere", {})
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert (status, missing_status) == (200, 404)
    assert HEX_ID.fullmatch(sent_back) and sent_back != "forged-by-client"
    assert HEX_ID.fullmatch(missing_id) and missing_id != sent_back
    lines = [line for line in err.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in entries:
        assert {"time", "level", "logger", "message"} <= entry.keys(), entry
    access = {e["request_id"]: e for e in entries
              if e["logger"] == "aiohttp.access" and "request_id" in e}
    ok = access[sent_back]
    assert (ok["method"], ok["path"], ok["status"]) == ("GET", "/healthz", 200)
    assert isinstance(ok["duration_ms"], float) and ok["duration_ms"] >= 0
    assert access[missing_id]["path"] == "/nowhere" and access[missing_id]["status"] == 404


@pytest.fixture
def json_lines():  # noqa: ANN201
    """Lines the app's loggers write during the test, formatted as LOG_FORMAT=json does; the
    root logger's handlers are put back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    out = io.StringIO()
    capture = logging.StreamHandler(out)
    capture.setFormatter(JsonFormatter())
    logging.getLogger("app").addHandler(capture)
    yield lambda: [json.loads(line) for line in out.getvalue().splitlines()]
    logging.getLogger("app").removeHandler(capture)
    root.handlers[:] = handlers
    root.setLevel(level)


async def test_a_trusted_proxys_request_id_is_kept_and_on_every_line_of_its_request(
        aiohttp_client, settings, clock, json_lines):
    # the test client is 127.0.0.1: here our proxy; Redis on a closed port makes /readyz
    # write a warning while it handles the request
    dead_redis = f"redis://127.0.0.1:1/0?channel=t{uuid.uuid4().hex[:8]}"
    app = create_app(dataclasses.replace(settings, log_format="json", redis_url=dead_redis,
                                         trusted_proxies=("127.0.0.1",)), clock=clock)
    client = await aiohttp_client(app)
    resp = await client.get("/readyz", headers={"X-Request-ID": "nginx-7f3a.1"})
    assert resp.status == 503 and resp.headers["X-Request-ID"] == "nginx-7f3a.1"
    warned = [e for e in json_lines() if e["logger"] == "app.ops.health"]
    assert warned and all(e["request_id"] == "nginx-7f3a.1" for e in warned), warned
    assert warned[0]["level"] == "WARNING" and "redis" in warned[0]["message"]
    # even from our proxy, an id that is not plain text is not written into the log
    odd = await client.get("/healthz", headers={"X-Request-ID": 'x" {"level": "FAKE"}'})
    assert HEX_ID.fullmatch(odd.headers["X-Request-ID"])
    long = await client.get("/healthz", headers={"X-Request-ID": "a" * 200})
    assert HEX_ID.fullmatch(long.headers["X-Request-ID"])


async def test_no_request_ids_with_plain_logs(aiohttp_client, settings, clock):
    client = await aiohttp_client(create_app(settings, clock=clock))
    assert "X-Request-ID" not in (await client.get("/healthz")).headers
