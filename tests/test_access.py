"""Every route declares who may use it, and the app enforces it for every role."""

import re

import pytest
from aiohttp import web

from app.roles import ACCESS_ATTR, PUBLIC, Role
from tests.factories import PASSWORD

LOGINS = {
    Role.STUDENT: ("student", lambda w: w.active_student().email),
    Role.EMPLOYER: ("employer", lambda w: "employer"),
    Role.COUNSELOR: ("staff", lambda w: "counselor0"),
    Role.SCHOOL_ADMIN: ("staff", lambda w: "school_admin0"),
    Role.PLATFORM_ADMIN: ("staff", lambda w: "platform"),
}


def _path(resource) -> str:  # noqa: ANN001
    """A concrete path for a route: each variable gets "1", or the first alternative its
    pattern allows ({kind:zh|en} → zh)."""
    info = resource.get_info()
    if "formatter" not in info:
        return resource.canonical
    groups = dict(re.findall(r"\(\?P<(\w+)>([^)]*)\)", info["pattern"].pattern))
    return info["formatter"].format(**{
        name: "1" if re.fullmatch(pat, "1") else pat.split("|")[0] for name, pat in groups.items()})


def protected_routes(app: web.Application):
    for route in app.router.routes():
        if isinstance(route.resource, web.StaticResource) or route.method == "HEAD" \
                or route.resource.canonical.startswith("/socket.io"):
            continue
        allowed = getattr(route.handler, ACCESS_ATTR, None)
        if allowed == PUBLIC:
            continue
        path = _path(route.resource)
        yield route.method, path, allowed


def test_every_route_declares_access(app):
    # socket.io's own route authenticates in its connect handler (tests/test_hall_socket.py)
    undeclared = [r.resource.canonical for r in app.router.routes()
                  if not isinstance(r.resource, web.StaticResource)
                  and not r.resource.canonical.startswith("/socket.io")
                  and getattr(r.handler, ACCESS_ATTR, None) is None]
    assert undeclared == []
    assert len(list(protected_routes(app))) >= 12


async def test_anonymous_is_sent_to_the_right_login(client, app):
    for method, path, allowed in protected_routes(app):
        resp = await (client.get(path) if method == "GET" else client.post(path))
        assert resp.status == 303, (method, path)
        login = resp.headers["Location"].split("?")[0]
        expected = ("/login/student" if Role.STUDENT in allowed else
                    "/login/employer" if Role.EMPLOYER in allowed else "/login/staff")
        assert login == expected, (method, path)


@pytest.mark.parametrize("role", list(Role))
async def test_each_role_reaches_only_its_routes(make_client, app, world, role):
    c = await make_client()
    kind, account = LOGINS[role]
    await c.login(kind, account(world), PASSWORD)
    for method, path, allowed in protected_routes(app):
        if path == "/logout":
            continue
        resp = await (c.get(path) if method == "GET" else c.post(path))
        if role in allowed:
            assert resp.status != 403, (role, method, path)
        else:
            assert resp.status == 403, (role, method, path, resp.status)
            assert "无权访问" in await resp.text()


async def test_school_admin_cannot_read_another_schools_import(make_client, world):
    a = await make_client()
    await a.login("staff", "school_admin0", PASSWORD)
    import aiohttp
    form = aiohttp.FormData()
    form.add_field("_csrf", a.csrf())
    form.add_field("file", "学号,姓名\n".encode(), filename="x.csv", content_type="text/csv")
    resp = await a.client.post("/school/imports", data=form, allow_redirects=False)
    assert resp.status == 303
    job_url = resp.headers["Location"]
    assert (await a.get(job_url)).status == 200
    b = await make_client()
    await b.login("staff", "school_admin1", PASSWORD)
    assert (await b.get(job_url)).status == 404
    assert (await b.get(job_url + "/status")).status == 404
