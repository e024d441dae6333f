"""The demo's video interviews whatever the hour it is loaded: an interview must end on its
own China day, and whoever loads the demo should be able to try the hall at once or soon."""

import datetime as dt

import sqlalchemy as sa

from app import demo
from app.clock import ManualClock
from app.db import Database
from app.interviews import rules
from app.tables import interviews
from app.uploads import FileStore

CHINA = rules.CHINA


def china(hour: int, minute: int, day: int = 7) -> dt.datetime:
    return rules.china_datetime(dt.date(2026, 12, day), dt.time(hour, minute))


def test_demo_interview_times_stay_on_one_china_day():
    assert demo.demo_interview_times(china(14, 0), 2) == (china(14, 5), 15)
    assert demo.demo_interview_times(china(23, 25), 2) == (china(23, 30), 15)  # ends 24:00
    assert demo.demo_interview_times(china(23, 30), 2) == (china(23, 35), 12)  # what is left
    assert demo.demo_interview_times(china(23, 45), 2) == (china(23, 50), 5)
    assert demo.demo_interview_times(china(23, 46), 2) == (china(0, 0, day=8), 15)  # next day
    assert demo.demo_interview_times(china(23, 54), 2) == (china(0, 0, day=8), 15)
    assert demo.demo_interview_times(china(23, 56), 2) == (china(0, 1, day=8), 15)  # 5 minutes on is tomorrow
    for minute in range(0, 24 * 60, 1):
        now = china(0, 0) + dt.timedelta(minutes=minute, seconds=30)
        first, minutes = demo.demo_interview_times(now, 2)
        last = rules.consecutive(first, minutes, 2)[-1]
        assert first > now and minutes >= rules.MIN_MINUTES
        assert last.ends_at.astimezone(CHINA).date() == first.astimezone(CHINA).date()
        # the hall (10 minutes before, by default) opens within 5 minutes of loading
        assert rules.hall_opens_at(first, 10) - now <= dt.timedelta(minutes=5)


async def test_the_demo_loads_at_ten_to_midnight(settings):
    clock = ManualClock(china(23, 50))
    db = Database(settings.database_url)
    try:
        await demo.load(db, FileStore(settings.data_dir), clock.now(), base_url=settings.public_base_url)
        async with db.read() as conn:
            rows = list(await conn.execute(sa.select(interviews).order_by(interviews.c.starts_at)))
    finally:
        await db.dispose()
    assert [(r.starts_at.astimezone(CHINA).strftime("%m-%d %H:%M"), r.minutes, r.status)
            for r in rows] == [("12-08 00:00", 15, "invited"), ("12-08 00:15", 15, "invited")]
    assert rules.hall_opens_at(rows[0].starts_at, settings.hall_open_minutes) <= clock.now()
