"""发起签约 starts from the employer's registration (issue 24, finding 12): its written 所在地
fills 单位所在地 (the county it names) and 单位地址."""

from __future__ import annotations

import re


from app.db import Database
from app.tables import employers
from tests.signing_kit import as_user


async def _located(database_url: str, employer_id: int, location: str) -> None:
    db = Database(database_url)
    try:
        async with db.write() as conn:
            await conn.execute(employers.update().where(employers.c.id == employer_id)
                               .values(location=location))
    finally:
        await db.dispose()


async def test_the_invitation_form_starts_with_the_registered_place(make_client, world, settings):
    await _located(settings.database_url, world.employer_id, "重庆市渝中区民族路1号")
    employer = await as_user(make_client, "employer", "employer")
    page = await (await employer.get("/employer/agreements/new")).text()
    assert re.search(r'<option value="500103"[^>]*selected', page), "单位所在地 not filled"
    assert re.search(r'id="f-address"[^>]*value="重庆市渝中区民族路1号"', page), "单位地址 not filled"


async def test_a_place_naming_no_county_leaves_the_area_to_choose(make_client, world, settings):
    await _located(settings.database_url, world.employer_id, "高新区科技园")
    employer = await as_user(make_client, "employer", "employer")
    page = await (await employer.get("/employer/agreements/new")).text()
    assert not re.search(r'<option value="\d{6}"[^>]*selected', page)
    assert re.search(r'id="f-address"[^>]*value="高新区科技园"', page)
