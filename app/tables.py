"""The shared core tables (SQLAlchemy Core) that the domains build on. Each domain package
owns its own tables.py; app/all_tables.py gathers them all for Alembic and the tests."""

from __future__ import annotations

import sqlalchemy as sa

from .schema import Time, metadata

schools = sa.Table(
    "schools", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(20), nullable=False, unique=True),
    sa.Column("name", sa.String(100), nullable=False),
)

colleges = sa.Table(
    "colleges", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("code", sa.String(20), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.UniqueConstraint("school_id", "code", name="uq_colleges_school_code"),
)

majors = sa.Table(
    "majors", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("college_id", sa.ForeignKey("colleges.id"), nullable=False),
    sa.Column("code", sa.String(20), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.UniqueConstraint("college_id", "code", name="uq_majors_college_code"),
)

employers = sa.Table(
    "employers", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("credit_code", sa.String(18), nullable=False, unique=True),
    sa.Column("status", sa.String(20), nullable=False),  # EmployerState
    sa.Column("created_at", Time, nullable=False),
    sa.Column("nature", sa.String(4), nullable=False, server_default=""),    # 单位性质 code
    sa.Column("industry", sa.String(4), nullable=False, server_default=""),  # 单位行业 code
    sa.Column("location", sa.String(100), nullable=False, server_default=""),
    sa.Column("contact_name", sa.String(50), nullable=False, server_default=""),
    sa.Column("contact_phone", sa.String(20), nullable=False, server_default=""),
    sa.Column("contact_email", sa.String(254), nullable=False, server_default=""),
    sa.Column("licence_file_id", sa.String(64)),
    sa.Column("return_reason", sa.Text),
    sa.Column("updated_at", Time),
    sa.Index("ix_employers_status", "status", "created_at"),  # 单位审核 and its 待办
)

accounts = sa.Table(
    "accounts", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("role", sa.String(20), nullable=False),
    # Staff and employers log in with a user name; students with 学号, 邮箱 or 手机号.
    sa.Column("username", sa.String(64), unique=True),
    sa.Column("email", sa.String(254), unique=True),
    sa.Column("phone", sa.String(20)),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("display_name", sa.String(100), nullable=False),
    sa.Column("school_id", sa.ForeignKey("schools.id")),
    sa.Column("college_id", sa.ForeignKey("colleges.id")),
    sa.Column("employer_id", sa.ForeignKey("employers.id")),
    sa.Column("is_active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", Time, nullable=False),
    sa.Index("ix_accounts_phone", "phone"),
)

student_records = sa.Table(
    "student_records", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("student_no", sa.String(32), nullable=False),
    sa.Column("name", sa.String(64), nullable=False),
    sa.Column("id_number", sa.String(18), nullable=False),
    sa.Column("gender", sa.String(1), nullable=False),
    sa.Column("college_id", sa.ForeignKey("colleges.id"), nullable=False),
    sa.Column("major_id", sa.ForeignKey("majors.id"), nullable=False),
    sa.Column("education", sa.String(20), nullable=False),
    sa.Column("graduation_year", sa.Integer, nullable=False),
    sa.Column("class_name", sa.String(64), nullable=False, server_default=""),
    sa.Column("account_id", sa.ForeignKey("accounts.id"), unique=True),
    sa.Column("imported_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.UniqueConstraint("school_id", "student_no", name="uq_student_records_school_no"),
    # 就业统计 counts by these columns (migration 0109st)
    sa.Index("ix_student_records_statistics", "graduation_year", "school_id", "college_id",
             "major_id", "education", "gender"),
)

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("employer_id", sa.ForeignKey("employers.id"), nullable=False),
    sa.Column("title", sa.String(100), nullable=False),
    sa.Column("kind", sa.String(10), nullable=False),  # 全职 / 实习
    sa.Column("city", sa.String(50), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # JobState
    sa.Column("created_at", Time, nullable=False),
    sa.Column("salary_min", sa.Integer),  # 元/月
    sa.Column("salary_max", sa.Integer),
    sa.Column("education", sa.String(20), nullable=False, server_default="不限"),
    sa.Column("majors", sa.String(300), nullable=False, server_default=""),
    sa.Column("headcount", sa.Integer, nullable=False, server_default="1"),
    sa.Column("closing_date", sa.Date),
    sa.Column("return_reason", sa.Text),
    sa.Column("updated_at", Time),
    sa.Index("ix_jobs_status", "status", "created_at"),
    sa.Index("ix_jobs_employer", "employer_id", "status"),  # an employer's jobs and 待办
)

# Uploaded files live in DATA_DIR/files under a random server-chosen name; the id is
# random too, so no file can be reached by guessing, and every read is checked by kind.
files = sa.Table(
    "files", metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("owner_id", sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # licence, resume, application
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Index("ix_files_owner", "owner_id", "kind"),  # the storage quota sums by owner
)

resumes = sa.Table(
    "resumes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(4), nullable=False),  # zh, en, file
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("data", sa.JSON),
    sa.Column("file_id", sa.ForeignKey("files.id")),
    sa.Column("is_default", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Index("ix_resumes_account", "account_id"),
)

applications = sa.Table(
    "applications", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("job_id", sa.ForeignKey("jobs.id"), nullable=False),
    sa.Column("account_id", sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # ApplicationState
    # The resume as sent: later edits to the resume never change what the employer got.
    sa.Column("snapshot", sa.JSON, nullable=False),
    sa.Column("snapshot_file_id", sa.ForeignKey("files.id")),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Column("viewed_at", Time),
    sa.UniqueConstraint("job_id", "account_id", name="uq_applications_job_account"),
    sa.Index("ix_applications_account", "account_id"),
)

sessions = sa.Table(
    "sessions", metadata,
    # Only a hash of the cookie's token is stored: a leaked table opens no session.
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("last_seen_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("user_agent", sa.String(300), nullable=False, server_default=""),
    sa.Index("ix_sessions_account", "account_id"),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", Time, nullable=False),
    sa.Column("actor_id", sa.ForeignKey("accounts.id")),
    sa.Column("action", sa.String(50), nullable=False),
    sa.Column("entity", sa.String(50), nullable=False),
    sa.Column("entity_id", sa.String(64), nullable=False),
    sa.Column("from_state", sa.String(30)),
    sa.Column("to_state", sa.String(30)),
    sa.Column("reason", sa.Text),
    sa.Column("detail", sa.JSON),
    # The school the row concerns (its item's, else the acting account's); None: platform-wide
    # (employers, jobs, mail, failed logins to no account). A school admin's 操作日志 reads
    # only its school's rows: one range of ix_audit_school_at.
    sa.Column("school_id", sa.ForeignKey("schools.id")),
    sa.Index("ix_audit_entity", "entity", "entity_id"),
    sa.Index("ix_audit_school_at", "school_id", "at"),
    sa.Index("ix_audit_at", "at"),
    sa.Index("ix_audit_actor_at", "actor_id", "at"),
)

email_outbox = sa.Table(
    "email_outbox", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("to_addr", sa.String(254), nullable=False),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("body_text", sa.Text, nullable=False),
    sa.Column("body_html", sa.Text),
    sa.Column("template", sa.String(50), nullable=False),
    # [{"filename", "content_type", "data" (base64)}], e.g. an interview's .ics
    sa.Column("attachments", sa.JSON, nullable=False),
    # pending → sent, or → failed when it can never go out as it is (unbuildable, refused
    # with 5xx) until an admin's 【重发】 makes it pending again; without SMTP settings mail
    # stays pending ("kept") for the admin page.
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Time, nullable=False),
    sa.Column("claimed_until", Time),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("sent_at", Time),
    # lower goes first (app/notify/emails.py PRIORITIES): a code a person waits for is never
    # queued behind bulk mail
    sa.Column("priority", sa.SmallInteger, nullable=False, server_default="5"),
    sa.Index("ix_outbox_due", "status", "priority", "next_attempt_at"),
)

notices = sa.Table(
    "notices", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False, server_default=""),
    sa.Column("link", sa.String(300)),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("read_at", Time),
    # how many items one unread notice stands for: new items to review are told once a day
    # and queue, counted here (notify/notices.add_grouped)
    sa.Column("repeats", sa.Integer, nullable=False, server_default="1"),
    sa.Index("ix_notices_account", "account_id", "read_at"),
)

verification_codes = sa.Table(
    "verification_codes", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    sa.Column("purpose", sa.String(20), nullable=False),
    sa.Column("code_hash", sa.String(64), nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("tries", sa.Integer, nullable=False, server_default="0"),
    sa.Column("used_at", Time),
    sa.Index("ix_codes_account", "account_id", "purpose"),
)

# The multi-step 找回密码 flow: one row per attempt, addressed by a random token. An attempt
# for an account that does not exist has no account_id and behaves the same (app/auth/reset.py).
password_resets = sa.Table(
    "password_resets", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("account_id", sa.ForeignKey("accounts.id", ondelete="CASCADE")),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("expires_at", Time, nullable=False),
    sa.Column("verified_at", Time),
    sa.Column("used_at", Time),
    # keyed hash of the 账号 as typed: the per-account limit's key when there is no account
    sa.Column("lookup_key", sa.String(64)),
    # the attempt's current 邮箱验证码 (keyed hash), counted down atomically
    sa.Column("code_hash", sa.String(64)),
    sa.Column("code_sent_at", Time),
    sa.Column("code_expires_at", Time),
    sa.Column("code_tries", sa.Integer, nullable=False, server_default="0"),
)

rate_hits = sa.Table(
    "rate_hits", metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("window_start", Time, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)

import_jobs = sa.Table(
    "import_jobs", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("school_id", sa.ForeignKey("schools.id"), nullable=False),
    sa.Column("created_by", sa.ForeignKey("accounts.id")),
    sa.Column("filename", sa.String(200), nullable=False),
    sa.Column("stored_path", sa.String(300), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # queued, running, done, failed, cancelled
    sa.Column("total_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("processed_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_rows", sa.Integer, nullable=False, server_default="0"),
    sa.Column("errors", sa.JSON, nullable=False),
    # problems grouped by message and the cells corrected (app/students/report.py)
    sa.Column("report", sa.JSON),
    sa.Column("message", sa.Text),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("finished_at", Time),
    # The process running the job and until when its claim holds (renewed while it runs);
    # `runs` counts claims, so an interrupted job is resumed once and not forever.
    sa.Column("claimed_by", sa.String(64)),
    sa.Column("lease_until", Time),
    sa.Column("runs", sa.Integer, nullable=False, server_default="0"),
)


# One employer's interviews on one day form a session: the booth's queue in the hall.
interview_sessions = sa.Table(
    "interview_sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("employer_id", sa.ForeignKey("employers.id"), nullable=False),
    sa.Column("day", sa.Date, nullable=False),  # China date
    sa.Column("starts_at", Time, nullable=False),
    sa.Column("ends_at", Time, nullable=False),
    sa.Column("allow_walk_ins", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("status", sa.String(20), nullable=False),  # scheduled, open, ended, closed
    sa.Column("created_at", Time, nullable=False),
    # whether someone of the employer has the interview room open (kept in the database so
    # that every process sees it), and when the "nobody is in your room" mail went out
    sa.Column("employer_present", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("absence_mailed_at", Time),
    sa.Column("closed_reason", sa.Text),  # an admin closed the booth (the audit row has who)
    sa.UniqueConstraint("employer_id", "day", name="uq_interview_sessions_employer_day"),
)

interviews = sa.Table(
    "interviews", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.ForeignKey("interview_sessions.id"), nullable=False),
    sa.Column("application_id", sa.ForeignKey("applications.id"), nullable=False),
    sa.Column("account_id", sa.ForeignKey("accounts.id"), nullable=False),  # the student
    sa.Column("starts_at", Time, nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("note", sa.Text, nullable=False, server_default=""),
    sa.Column("status", sa.String(20), nullable=False),  # InterviewState
    sa.Column("sequence", sa.Integer, nullable=False, server_default="0"),  # .ics SEQUENCE
    sa.Column("outcome", sa.String(10)),  # 通过 / 待定 / 不通过
    sa.Column("outcome_released", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("employer_notes", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", Time, nullable=False),
    sa.Column("updated_at", Time, nullable=False),
    sa.Index("ix_interviews_session", "session_id", "starts_at"),
    sa.Index("ix_interviews_account", "account_id", "starts_at"),
)

# A student's place in a booth's queue. It lives in the database so that a restart or a
# second process loses no place; the ordering itself is a pure function (rtc/queue.py).
hall_tickets = sa.Table(
    "hall_tickets", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("session_id", sa.ForeignKey("interview_sessions.id"), nullable=False),
    sa.Column("account_id", sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("interview_id", sa.ForeignKey("interviews.id")),  # None for a walk-in
    sa.Column("slot_at", Time),
    sa.Column("status", sa.String(20), nullable=False),  # TicketState
    sa.Column("arrived_at", Time, nullable=False),
    sa.Column("last_seen_at", Time, nullable=False),
    sa.Column("connected", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("called_at", Time),
    sa.Column("call_started_at", Time),
    sa.Column("finished_at", Time),
    sa.Column("probe", sa.JSON),
    sa.Column("created_at", Time, nullable=False),
    # the wait the student was shown on joining: the monitor flags waits far beyond it
    sa.Column("promised_eta_seconds", sa.Integer),
    sa.Column("closed_reason", sa.Text),  # why an admin took the ticket out (told to the student)
    # the server process holding the student's connection (hall_processes): when its lease
    # runs out (the process was killed), the ticket counts as disconnected since then
    sa.Column("process_id", sa.String(32)),
    sa.UniqueConstraint("session_id", "account_id", name="uq_hall_tickets_session_account"),
    sa.Index("ix_hall_tickets_session", "session_id", "status"),
    # a student's places at every booth (one wait across booths, who is busy elsewhere)
    sa.Index("ix_hall_tickets_account", "account_id", "status"),
    # one call at a time: at most one place of a student called or in a call (rtc/queue.py)
    sa.Index("uq_hall_tickets_one_call", "account_id", unique=True,
             sqlite_where=sa.text("status IN ('called', 'in_call')"),
             postgresql_where=sa.text("status IN ('called', 'in_call')")),
)

# One row per call and side: the running figures of the getStats summaries the browser sends
# every few seconds (last values, sums and maxima). The raw stream is never kept; once the
# call ends this row is its quality summary.
call_quality = sa.Table(
    "call_quality", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("ticket_id", sa.ForeignKey("hall_tickets.id"), nullable=False),
    sa.Column("side", sa.String(10), nullable=False),  # student / employer
    sa.Column("samples", sa.Integer, nullable=False),
    sa.Column("first_at", Time, nullable=False),
    sa.Column("last_at", Time, nullable=False),
    sa.Column("rtt_ms", sa.Float),  # the last sample's figures
    sa.Column("loss", sa.Float, nullable=False),
    sa.Column("out_kbps", sa.Float, nullable=False),
    sa.Column("in_kbps", sa.Float, nullable=False),
    sa.Column("fps", sa.Float, nullable=False),
    sa.Column("width", sa.Integer, nullable=False),
    sa.Column("height", sa.Integer, nullable=False),
    sa.Column("relay", sa.Boolean, nullable=False),
    sa.Column("verdict", sa.String(10), nullable=False),
    sa.Column("rtt_samples", sa.Integer, nullable=False),  # running figures over the call
    sa.Column("rtt_sum", sa.Float, nullable=False),
    sa.Column("rtt_max", sa.Float, nullable=False),
    sa.Column("loss_sum", sa.Float, nullable=False),
    sa.Column("loss_max", sa.Float, nullable=False),
    sa.Column("out_kbps_sum", sa.Float, nullable=False),
    sa.Column("in_kbps_sum", sa.Float, nullable=False),
    sa.Column("fps_sum", sa.Float, nullable=False),
    sa.Column("relay_samples", sa.Integer, nullable=False),
    sa.Column("poor_samples", sa.Integer, nullable=False),
    sa.Column("poor_since", Time),  # start of the current run of poor samples
    sa.Column("poor_seconds", sa.Float, nullable=False),
    sa.UniqueConstraint("ticket_id", "side", name="uq_call_quality_ticket_side"),
)

# Who of the employer has the booth's room open, one row per socket. Each process refreshes
# its own rows; rows of a process that died go stale and are swept, so presence is right
# across restarts and several processes.
# One row per live server process, its lease refreshed every second by its sweeper. A
# process killed without cleanup stops refreshing: its tickets are released (rtc/leases.py).
hall_processes = sa.Table(
    "hall_processes", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("started_at", Time, nullable=False),
    sa.Column("lease_until", Time, nullable=False),
)

hall_watchers = sa.Table(
    "hall_watchers", metadata,
    sa.Column("sid", sa.String(64), primary_key=True),
    sa.Column("session_id", sa.ForeignKey("interview_sessions.id"), nullable=False),
    sa.Column("account_id", sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("seen_at", Time, nullable=False),
    sa.Index("ix_hall_watchers_session", "session_id"),
)

# A notice an admin posts to the hall of a day (session_id None) or to one booth. school_id
# is the poster's school (None: a platform admin): it reaches only that school's students.
hall_notices = sa.Table(
    "hall_notices", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("day", sa.Date, nullable=False),  # China date
    sa.Column("session_id", sa.ForeignKey("interview_sessions.id")),
    sa.Column("school_id", sa.ForeignKey("schools.id")),
    sa.Column("author_id", sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", Time, nullable=False),
    sa.Index("ix_hall_notices_day", "day"),
)
