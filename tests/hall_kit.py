"""A hall ready for tests: a job, applicants, invitations in the next minutes, and real
socket.io clients that log in like browsers (session cookie + Origin)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable

import socketio
from aiortc import RTCSessionDescription

from app.applications import service as applications
from app.auth import service as accounts
from app.db import Database
from app.interviews import service as interviews
from app.uploads import FileStore
from rtc.bot import media_peer
from tests.factories import PASSWORD, PASSWORD_HASH
from tests.helpers import published_job, saved_resume


class Events:
    """Every event a client receives, awaitable by name and condition (no sleeps)."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []
        self._changed = asyncio.Condition()

    async def add(self, event: str, data: Any) -> None:
        async with self._changed:
            self.seen.append((event, data))
            self._changed.notify_all()

    async def wait(self, event: str, check: Callable[[Any], bool] = lambda _: True,
                   timeout: float = 10) -> Any:
        async def find() -> Any:
            async with self._changed:
                while True:
                    for name, data in reversed(self.seen):
                        if name == event and check(data):
                            return data
                    await self._changed.wait()
        return await asyncio.wait_for(find(), timeout)

    def clear(self) -> None:
        self.seen.clear()


@dataclass
class HallClient:
    sio: socketio.AsyncClient
    events: Events
    namespace: str = "/hall"

    async def call(self, event: str, data: Any) -> Any:
        return await self.sio.call(event, data, namespace=self.namespace, timeout=10)


async def connect(base_url: str, cookie: str | None, origin: str | None = None,
                  namespace: str = "/hall", ssl_verify: bool = True,
                  auth: dict | None = None) -> HallClient:
    """A socket.io client of one namespace (/hall or /monitor) that logs every event.
    ssl_verify=False: through the test's nginx with its self-signed certificate.
    auth: what the page says on connecting (a student's hall page: its booth)."""
    events = Events()
    sio = socketio.AsyncClient(reconnection=False, ssl_verify=ssl_verify)

    @sio.on("*", namespace=namespace)
    async def any_event(event, data=None):  # noqa: ANN001
        await events.add(event, data)

    headers = {"Origin": origin if origin is not None else base_url.rstrip("/")}
    if cookie:
        headers["Cookie"] = cookie
    await sio.connect(base_url, headers=headers, namespaces=[namespace], transports=["websocket"],
                      wait_timeout=10, auth=auth)
    return HallClient(sio, events, namespace)


async def login_cookie(base: str, kind: str, account: str) -> str:
    """Log in over HTTP like a browser (through nginx's self-signed TLS too); the session
    cookie as a Cookie header for a socket."""
    import aiohttp
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar,
                                     connector=aiohttp.TCPConnector(ssl=False)) as http:
        async with http.get(f"{base}/") as r:
            assert r.status == 200
        csrf = jar.filter_cookies(aiohttp.client.URL(base))["csrftoken"].value
        async with http.post(f"{base}/login/{kind}", allow_redirects=False, data={
                "account": account, "password": PASSWORD, "_csrf": csrf}) as r:
            assert r.status == 303, await r.text()
        return "; ".join(f"{k}={v.value}" for k, v in
                         jar.filter_cookies(aiohttp.client.URL(base)).items())


def cookie_of(form_client) -> str:  # noqa: ANN001
    jar = form_client.client.session.cookie_jar.filter_cookies(form_client.client.make_url("/"))
    return "; ".join(f"{k}={v.value}" for k, v in jar.items())


async def build_hall(world, settings, clock, students: int = 3,  # noqa: ANN001
                     invited: int | None = None) -> dict[str, Any]:
    """Students invited to consecutive 5-minute slots from a minute from now: all within
    the 10 minutes before their slot, so the hall is open to every one of them."""
    now = clock.now()
    job_id = await published_job(settings.database_url, world.employer_id, world.staff["employer"][1],
                                 world.staff["platform"][1], now)
    db = Database(settings.database_url)
    people = [world.active_student(0), world.active_student(1)]
    async with db.write() as conn:
        extra = world.inactive_student(0)
        extra.email = "third@test.example.cn"
        extra.account_id = await accounts.activate(conn, record_id=extra.record_id, email=extra.email,
                                                   phone="13900009999", password_hash=PASSWORD_HASH,
                                                   now=now)
        people.append(extra)
    people = people[:students]
    app_ids = []
    for s in people:
        await saved_resume(settings.database_url, s.account_id, now, name=s.name)
        async with db.write() as conn:
            app_ids.append(await applications.apply(conn, FileStore(settings.data_dir), job_id=job_id,
                                                    account_id=s.account_id, now=now))
    async with db.write() as conn:
        interview_ids = await interviews.invite(
            conn, employer_id=world.employer_id, application_ids=app_ids[:invited],
            first=now + dt.timedelta(minutes=1), minutes=5, note="", actor_id=world.staff["employer"][1],
            now=now, base_url=settings.public_base_url)
        session_id = (await conn.execute(
            interviews.interviews.select().where(interviews.interviews.c.id == interview_ids[0]))).one().session_id
    await db.dispose()
    return {"students": people, "interview_ids": interview_ids, "session_id": session_id,
            "job_id": job_id, "application_ids": app_ids}


# Who a hall test logs in besides the students: key, login form, account.
STAFF_LOGINS = (("employer", "employer", "employer"), ("platform", "staff", "platform"),
                ("school0", "staff", "school_admin0"), ("school1", "staff", "school_admin1"),
                ("counselor", "staff", "counselor0"))


async def with_everyone(data: dict[str, Any], make_client, sockets: list) -> dict[str, Any]:  # noqa: ANN001
    """Log in each student of a built hall (s0, s1, …), the employer and the staff. Adds
    `http` (key → client), `base`, `app` and `sock(key, namespace)`, which opens a socket
    that the `sockets` fixture closes at the end of the test."""
    http = {}
    for i, s in enumerate(data["students"]):
        http[f"s{i}"] = await make_client()
        await http[f"s{i}"].login("student", s.email, PASSWORD)
    for key, kind, account in STAFF_LOGINS:
        http[key] = await make_client()
        await http[key].login(kind, account, PASSWORD)
    base = str(http["employer"].client.make_url("/"))

    async def sock(key: str, namespace: str = "/hall") -> HallClient:
        c = await connect(base, cookie_of(http[key]), namespace=namespace)
        sockets.append(c)
        return c
    data.update(http=http, sock=sock, base=base, app=http["employer"].app)
    return data


async def exchange_media(employer: HallClient, student: HallClient, ticket: int,
                         frames: int = 5) -> list[tuple[int, int]]:
    """Two aiortc peers (rtc/bot.py) set up a call through the /hall signaling relay only:
    the employer offers, the student answers, and each side decodes `frames` video frames.
    Returns the decoded frame sizes, both sides; raises if media never flows."""
    employer_pc, _ = media_peer()
    student_pc, _ = media_peer()
    loop = asyncio.get_running_loop()
    received = {"employer": loop.create_future(), "student": loop.create_future()}
    for side, pc in (("employer", employer_pc), ("student", student_pc)):
        pc.on("track", lambda t, s=side: received[s].done() or received[s].set_result(t))

    def description(pc) -> dict[str, Any]:  # noqa: ANN001
        return {"description": {"type": pc.localDescription.type,
                                 "sdp": pc.localDescription.sdp}}
    try:
        # aiortc gathers before returning: the candidates ride in the SDP
        await employer_pc.setLocalDescription(await employer_pc.createOffer())
        assert (await employer.call("signal", {"ticket_id": ticket,
                                               "payload": description(employer_pc)}))["ok"]
        got = await student.events.wait("signal", lambda d: d["payload"].get("description"))
        await student_pc.setRemoteDescription(
            RTCSessionDescription(**got["payload"]["description"]))
        await student_pc.setLocalDescription(await student_pc.createAnswer())
        assert (await student.call("signal", {"ticket_id": ticket,
                                              "payload": description(student_pc)}))["ok"]
        back = await employer.events.wait("signal", lambda d: d["payload"].get("description"))
        await employer_pc.setRemoteDescription(
            RTCSessionDescription(**back["payload"]["description"]))
        sizes = []
        for side in ("student", "employer"):
            track = await asyncio.wait_for(received[side], 15)
            for _ in range(frames):
                frame = await asyncio.wait_for(track.recv(), 10)
                sizes.append((frame.width, frame.height))
        assert student_pc.connectionState == employer_pc.connectionState == "connected"
        return sizes
    finally:
        await employer_pc.close()
        await student_pc.close()
