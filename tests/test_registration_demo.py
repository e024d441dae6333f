"""The demo registration the lead loads with the demo data: approved, effective, replayable."""

import sqlalchemy as sa

from app import demo, workflow
from app.clock import Clock
from app.db import Database
from app.destinations import service as destinations
from app.registration.flows import REGISTRATION_FLOW
from app.registration.tables import registrations
from app.tables import student_records
from app.uploads import FileStore


async def test_demo_registration_is_approved_and_effective(settings):
    db = Database(settings.database_url)
    try:
        now = Clock().now()
        await demo.load(db, FileStore(settings.data_dir), now)  # loads the registration demo too
        async with db.read() as conn:
            record_id = (await conn.execute(sa.select(student_records.c.id).where(
                student_records.c.student_no == demo.demo_students()[4]["student_no"]))).scalar_one()
            reg_id = (await conn.execute(sa.select(registrations.c.id).where(
                registrations.c.student_record_id == record_id))).scalar_one()
            current = await destinations.current(conn, record_id)
            entries = await workflow.history(conn, REGISTRATION_FLOW, reg_id)
    finally:
        await db.dispose()
    assert (current.code, current.source, current.source_id) == ("80", "registration", reg_id)
    assert workflow.replay(REGISTRATION_FLOW, entries) == "approved"
