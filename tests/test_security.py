"""CSRF, security headers, cookie flags and password storage."""

import sqlalchemy as sa

from app.db import Database
from app.tables import accounts
from tests.factories import PASSWORD


async def test_post_without_or_with_wrong_csrf_token_is_refused(client, world):
    await client.get("/")
    for data in ({"account": "platform", "password": PASSWORD},
                 {"account": "platform", "password": PASSWORD, "_csrf": "x" * 43}):
        resp = await client.post("/login/staff", data, csrf=False)
        assert resp.status == 403
        assert "页面已过期" in await resp.text()
    # the same request with the token passes
    assert (await client.post("/login/staff", {"account": "platform", "password": PASSWORD})).status == 303


async def test_csrf_header_works_for_scripts_and_foreign_origin_is_refused(client, world):
    await client.login("staff", "platform", PASSWORD)
    token = client.csrf()
    resp = await client.client.post("/notices/read", headers={"X-CSRF-Token": token},
                                    allow_redirects=False)
    assert resp.status == 303
    resp = await client.client.post("/notices/read", headers={
        "X-CSRF-Token": token, "Origin": "http://evil.example"}, allow_redirects=False)
    assert resp.status == 403


async def test_a_first_visit_cannot_post(client):
    # no cookie yet: even a token-looking value is refused, and a cookie is handed out
    resp = await client.post("/login/staff", {"account": "a", "password": "b", "_csrf": "y" * 43},
                             csrf=False)
    assert resp.status == 403
    assert "csrftoken" in resp.cookies


async def test_login_rotates_the_csrf_token(client, world):
    await client.get("/")
    before = client.csrf()
    await client.login("staff", "platform", PASSWORD)
    assert client.csrf() != before


async def test_security_headers_and_csp_without_inline_script(client):
    for path in ("/", "/activate", "/static/css/app.css", "/no-such-page"):
        resp = await client.get(path)
        csp = resp.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["X-Frame-Options"] == "DENY"


async def test_pages_have_no_inline_scripts_or_handlers(client, world):
    import re
    await client.login("staff", "school_admin0", PASSWORD)
    for path in ("/", "/activate", "/login/student", "/password/forgot", "/school",
                 "/school/imports"):
        html = await (await client.get(path)).text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+=", html), path


async def test_session_and_csrf_cookies_are_httponly_and_samesite(client, world):
    resp = await client.post("/login/staff", {"account": "platform", "password": PASSWORD})
    header = "\n".join(resp.headers.getall("Set-Cookie"))
    for name in ("sid", "csrftoken"):
        line = next(l for l in header.splitlines() if l.startswith(f"{name}="))
        assert "HttpOnly" in line and "SameSite=Lax" in line, line


async def test_passwords_are_stored_as_argon2(world, settings):
    db = Database(settings.database_url)
    async with db.read() as conn:
        hashes = (await conn.execute(sa.select(accounts.c.password_hash))).scalars().all()
    await db.dispose()
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert all(PASSWORD not in h for h in hashes)


async def test_an_image_gets_the_resource_policy_and_a_page_the_page_policy(make_client, world,
                                                                            settings, clock):
    """【查看原图】 is shown by the browser's own image viewer, whose inline styles the page
    policy blocked (console errors); an image or PDF gets a policy of its own that lets
    nothing run, and pages keep theirs."""
    from app.security import CSP, RESOURCE_CSP
    from tests.signing_kit import as_user, ready_student
    from tests.termination_kit import offline_generated
    await ready_student(settings.database_url, world, clock.now())
    aid = await offline_generated(settings.database_url, world, clock.now())
    student = await as_user(make_client, "student", world.active_student().email)
    for path in (f"/agreements/{aid}/original.png", f"/agreements/{aid}/agreement.pdf"):
        resp = await student.get(path)
        assert resp.status == 200, path
        assert resp.headers["Content-Security-Policy"] == RESOURCE_CSP, path
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "script-src" not in RESOURCE_CSP and "default-src 'none'" in RESOURCE_CSP
    page = await student.get("/student")
    assert page.headers["Content-Security-Policy"] == CSP
    icon = await (await make_client()).get("/favicon.ico")
    assert icon.status == 301 and icon.headers["Location"] == "/static/favicon.svg"
