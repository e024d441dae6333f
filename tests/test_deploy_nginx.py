"""deploy/nginx/cqbys.conf passes Debian's `nginx -t` and serves the app: nginx (started by
the test, on free ports, with a throwaway prefix) in front of two `python -m app serve`
processes sharing the test database and Redis. A page, static files from disk, a login
and socket.io connections through it, spread over both processes."""

from __future__ import annotations

import re

import aiohttp
import pytest
import socketio

from app.config import SETTINGS, Settings
from tests.cluster_kit import HAVE_NGINX, ROOT, cluster
from tests.factories import PASSWORD
from tests.test_ops_metrics import sample

pytestmark = pytest.mark.skipif(not HAVE_NGINX,
                                reason="nginx missing: `make test` installs it (apt-get install nginx)")


def test_client_max_body_size_matches_upload_max_bytes():
    site = (ROOT / "deploy/nginx/cqbys.conf").read_text()
    size = int(re.search(r"client_max_body_size (\d+)m;", site).group(1))
    # the app accepts UPLOAD_MAX_BYTES plus 1 MiB for the rest of the form (app/web.py)
    default = next(s.default for s in SETTINGS if s.name == "upload_max_bytes")
    assert size * 1024 * 1024 == default + 1024 * 1024


async def test_nginx_serves_the_app_from_two_processes(tmp_path, settings: Settings, world):
    async with cluster(tmp_path, settings) as c:
        await _through_nginx(c.base, c.http_port, c.app_ports)


async def _through_nginx(base: str, http_port: int, app_ports: list[int]) -> None:
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP address host
    async with aiohttp.ClientSession(cookie_jar=jar,
                                     connector=aiohttp.TCPConnector(ssl=False)) as http:
        async with http.get(f"http://127.0.0.1:{http_port}/", allow_redirects=False) as r:
            assert r.status == 301 and r.headers["Location"] == "https://127.0.0.1/"
        async with http.get(f"{base}/") as r:
            assert r.status == 200 and "高校毕业生就业信息网" in await r.text()
            assert r.headers["Strict-Transport-Security"] == "max-age=31536000"
        async with http.get(f"{base}/static/css/app.css") as r:  # from disk, by nginx
            assert r.status == 200 and r.headers["Cache-Control"] == "max-age=604800"
        async with http.get(f"{base}/metrics") as r:
            assert r.status == 404
        async with http.get(f"{base}/readyz") as r:
            assert r.status == 200 and (await r.json())["checked"] == ["database", "redis"]
        csrf = jar.filter_cookies(aiohttp.client.URL(base))["csrftoken"].value
        async with http.post(f"{base}/login/employer", allow_redirects=False, data={
                "account": "employer", "password": PASSWORD, "_csrf": csrf}) as r:
            assert r.status == 303, await r.text()
            # Secure cookie: the app sees https through X-Forwarded-Proto from its proxy
            assert "Secure" in r.headers.getall("Set-Cookie")[0]
        cookie = "; ".join(f"{k}={v.value}" for k, v in
                           jar.filter_cookies(aiohttp.client.URL(base)).items())
    clients = []
    try:
        for _ in range(2):
            sio = socketio.AsyncClient(reconnection=False, ssl_verify=False)
            await sio.connect(base, headers={"Origin": base, "Cookie": cookie},
                              namespaces=["/hall"], transports=["websocket"], wait_timeout=10)
            clients.append(sio)
            assert await sio.call("ping", {}, namespace="/hall", timeout=10) == {"ok": True}
        # least_conn gave each process one of the two sockets (each process counts its own)
        counts = []
        async with aiohttp.ClientSession() as direct:
            for port in app_ports:
                async with direct.get(f"http://127.0.0.1:{port}/metrics") as r:
                    counts.append(sample(await r.text(), "socketio_connected_sockets",
                                         namespace="/hall"))
        assert counts == [1, 1]
    finally:
        for sio in clients:
            await sio.disconnect()
