"""The role centres as a screen reader meets them: one name per centre (navigation, title,
heading), and the student's tiles named by the manual's labels with their notes as
descriptions."""

import lxml.html
import pytest

from app.roles import Role
from tests.factories import PASSWORD

LOGINS = {Role.SCHOOL_ADMIN: ("staff", "school_admin0", "/school"),
          Role.COUNSELOR: ("staff", "counselor0", "/counselor"),
          Role.PLATFORM_ADMIN: ("staff", "platform", "/platform"),
          Role.EMPLOYER: ("employer", "employer", "/employer")}


def accessible_name(link) -> str:  # noqa: ANN001
    """Name from content: the link's text without what is hidden from assistive technology."""
    parts = [link.text or ""]
    for child in link:
        if child.get("aria-hidden") != "true":
            parts.append(child.text_content())
        parts.append(child.tail or "")
    return "".join(parts).strip()


@pytest.mark.parametrize("role", list(LOGINS))
async def test_navigation_title_and_heading_use_one_centre_name(client, world, role):
    kind, key, path = LOGINS[role]
    await client.login(kind, world.staff[key][0], PASSWORD)
    doc = lxml.html.fromstring(await (await client.get(path)).text())
    [nav_link] = doc.xpath(f'//nav[@aria-label="主导航"]//a[@href="{path}"]')
    [heading] = doc.xpath("//h1")
    assert (nav_link.text_content(), heading.text_content()) == (role.centre_name,) * 2
    assert doc.findtext(".//title").startswith(role.centre_name + " ·")


def test_the_employers_centre_is_named_as_in_the_product():
    assert Role.EMPLOYER.centre_name == "单位中心"  # PRODUCT.md: 学生中心 / 单位中心 / 管理中心


async def test_student_tiles_are_named_by_the_manuals_labels(client, world):
    await client.login("student", world.active_student().email, PASSWORD)
    html = await (await client.get("/student")).text()
    doc = lxml.html.fromstring(html)
    [nav_link] = doc.xpath('//nav[@aria-label="主导航"]//a[@href="/student"]')
    assert nav_link.text_content() == Role.STUDENT.centre_name
    tiles = {accessible_name(a): a for a in doc.xpath('//ul[@class="tiles"]//a')}
    # every bracketed label of the manual's student centre is a live link named exactly so
    for label in ("简历管理", "我的面试", "生源信息核对", "推荐表", "签约中心"):
        assert label in tiles, f"no tile named {label}: {sorted(tiles)}"
        assert tiles[label].get("href", "").startswith("/")
        assert "disabled" not in tiles[label].get("class", "")
    resumes = tiles["简历管理"]
    described_by = resumes.get("aria-describedby")
    assert described_by, "the tile's note is not its description"
    [note] = doc.xpath(f'//*[@id="{described_by}"]')
    assert note.text_content() == "中文、英文、附件简历"
    assert (await client.get(tiles["签约中心"].get("href"))).status in (200, 303)
