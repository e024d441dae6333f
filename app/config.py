"""One table of settings, read from the environment in one place.

Every setting has a name, a type, a default, the environment variable it comes from and a
help text. docs/settings.md is generated from this table (`python -m app settings-doc`;
tests/test_config.py keeps the file equal to what the table gives).
"""

from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path
from typing import Any, Callable, Mapping


@dataclasses.dataclass(frozen=True)
class Setting:
    name: str
    env: str
    parse: Callable[[str], Any]
    default: Any
    help: str


def _bool(raw: str) -> bool:
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _log_format(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("text", "json"):
        raise ValueError("expected text or json")
    return value


def _list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "DATA_DIR", Path, Path("data"),
            "Folder for the SQLite file, uploads and import files (created when missing)."),
    Setting("database_url", "DATABASE_URL", str, "",
            "SQLAlchemy async URL. Empty: sqlite+aiosqlite in DATA_DIR/app.db. "
            "For scale: postgresql+asyncpg://user@host/db."),
    Setting("secret_key", "SECRET_KEY", str, "",
            "Key for signing tokens and hashing codes. Empty: a random key kept in "
            "DATA_DIR/secret.key so restarts keep sessions valid."),
    Setting("public_base_url", "PUBLIC_BASE_URL", str, "http://127.0.0.1:8080",
            "Address users reach the site at; used in emails, the Origin check and "
            "to mark cookies Secure when it starts with https."),
    Setting("smtp_host", "SMTP_HOST", str, "",
            "SMTP server. Empty: mail stays in the outbox, readable at 邮件发件箱 by a platform admin."),
    Setting("smtp_port", "SMTP_PORT", int, 25, "SMTP port."),
    Setting("smtp_username", "SMTP_USERNAME", str, "", "SMTP login (optional)."),
    Setting("smtp_password", "SMTP_PASSWORD", str, "", "SMTP password (optional)."),
    Setting("smtp_starttls", "SMTP_STARTTLS", _bool, False, "Use STARTTLS when sending."),
    Setting("mail_from", "MAIL_FROM", str, "高校毕业生就业信息网 <noreply@example.edu.cn>",
            "From address of outgoing mail."),
    Setting("outbox_poll_seconds", "OUTBOX_POLL_SECONDS", float, 5.0,
            "How often the outbox worker looks for due mail when nothing wakes it."),
    Setting("outbox_max_backoff_seconds", "OUTBOX_MAX_BACKOFF_SECONDS", float, 900.0,
            "Longest wait between two tries of one mail; mail is retried forever, never dropped."),
    Setting("session_days", "SESSION_DAYS", int, 7, "How long a login session lives without use."),
    Setting("login_limit", "LOGIN_LIMIT", int, 10,
            "Failed logins allowed per account in LOGIN_WINDOW_SECONDS; also 忘记密码 "
            "lookups of one 账号, each counted."),
    Setting("login_limit_per_address", "LOGIN_LIMIT_PER_ADDRESS", int, 100,
            "Failed logins (and 忘记密码 lookups, and wrong 邮箱验证码 entries) allowed per "
            "client address in LOGIN_WINDOW_SECONDS; larger than LOGIN_LIMIT because a campus "
            "NAT puts many students behind one address."),
    Setting("login_window_seconds", "LOGIN_WINDOW_SECONDS", int, 900,
            "Window for LOGIN_LIMIT and LOGIN_LIMIT_PER_ADDRESS."),
    Setting("activation_limit", "ACTIVATION_LIMIT", int, 10,
            "Failed activation attempts allowed per 学号 in 15 minutes."),
    Setting("activation_limit_per_address", "ACTIVATION_LIMIT_PER_ADDRESS", int, 100,
            "Failed activation attempts allowed per client address in 15 minutes."),
    Setting("register_limit", "REGISTER_LIMIT", int, 10,
            "单位注册 submissions allowed per address per hour."),
    Setting("code_send_limit", "CODE_SEND_LIMIT", int, 5,
            "Presses of 获取验证码 one account may make per hour (each counts, "
            "whether or not the 邮箱 matched)."),
    Setting("code_send_limit_per_address", "CODE_SEND_LIMIT_PER_ADDRESS", int, 50,
            "Presses of 获取验证码 (邮箱 and 短信) one client address may make per hour."),
    Setting("code_resend_seconds", "CODE_RESEND_SECONDS", int, 60,
            "Cooldown before 获取验证码 can be pressed again in the same 忘记密码 attempt."),
    Setting("code_ttl_seconds", "CODE_TTL_SECONDS", int, 600, "Lifetime of an email code."),
    Setting("code_max_tries", "CODE_MAX_TRIES", int, 5, "Wrong entries before a code is void."),
    Setting("sms_gateway", "SMS_GATEWAY", str, "outbox",
            "outbox: text messages stay in the SMS outbox, readable at 短信发件箱 by a platform "
            "admin. module:Class: a provider class with async send(to, text) (app/sms/gateway.py)."),
    Setting("upload_max_bytes", "UPLOAD_MAX_BYTES", int, 20 * 1024 * 1024,
            "Largest upload accepted (imports, attachments); a bigger file is refused as it "
            "streams in, with the form and a message next to the field (413)."),
    Setting("image_max_bytes", "IMAGE_MAX_BYTES", int, 10 * 1024 * 1024,
            "Largest image accepted (营业执照, 推荐表 photo)."),
    Setting("image_max_pixels", "IMAGE_MAX_PIXELS", int, 40_000_000,
            "Most pixels (width × height, read from the header before decoding) an uploaded "
            "image may declare; refuses image bombs. Pillow refuses above 2 × 89 478 485 anyway."),
    Setting("storage_quota_bytes", "STORAGE_QUOTA_BYTES", int, 200 * 1024 * 1024,
            "Bytes of uploaded files one account may keep (attachments, licences, scans, "
            "evidence), and, apart, of its finished exports not yet expired; 0: no limit."),
    Setting("hall_open_minutes", "HALL_OPEN_MINUTES", int, 10,
            "Minutes before a slot at which 洽谈面试大厅 opens for the student; a default that a "
            "school may override for its students on 学校设置."),
    Setting("hall_answer_grace_seconds", "HALL_ANSWER_GRACE_SECONDS", int, 60,
            "Time a called student has to answer before being marked 未到 (default; per school "
            "on 学校设置)."),
    Setting("hall_waiter_grace_seconds", "HALL_WAITER_GRACE_SECONDS", int, 120,
            "Time a disconnected waiter keeps their place in the queue (default; per school on "
            "学校设置)."),
    Setting("stun_urls", "STUN_URLS", _list, (),
            "Comma-separated STUN URLs (stun:host:3478) given to browsers and the probe peer."),
    Setting("turn_urls", "TURN_URLS", _list, (),
            "Comma-separated TURN URLs (turn:host:3478?transport=udp, turns:…); used only "
            "with TURN_SECRET."),
    Setting("turn_secret", "TURN_SECRET", str, "",
            "coturn's static-auth-secret: short-lived TURN credentials are derived from it."),
    Setting("turn_ttl_seconds", "TURN_TTL_SECONDS", int, 3600,
            "Lifetime of one TURN credential."),
    Setting("hall_employer_absent_minutes", "HALL_EMPLOYER_ABSENT_MINUTES", int, 5,
            "Minutes after a booth's first slot with students waiting and nobody of the employer "
            "in the room before the employer gets an email."),
    Setting("hall_event_rate", "HALL_EVENT_RATE", float, 20.0,
            "Events per second one socket may send on /hall and /monitor (token bucket refill); "
            "beyond it events are refused."),
    Setting("hall_event_burst", "HALL_EVENT_BURST", int, 40,
            "Events one socket may send at once before HALL_EVENT_RATE applies (bucket size)."),
    Setting("hall_events_in_flight", "HALL_EVENTS_IN_FLIGHT", int, 10,
            "Events of one socket handled at the same time; more are refused until one ends "
            "(a browser sends its ICE candidates in a burst without waiting for the acks)."),
    Setting("hall_flood_refusals", "HALL_FLOOD_REFUSALS", int, 100,
            "Refused events within 10 s after which the socket is disconnected as a flood."),
    Setting("hall_account_concurrency", "HALL_ACCOUNT_CONCURRENCY", int, 2,
            "Events of one account (all its sockets in a process) doing database work at once; "
            "the rest wait for them, so one account cannot take the whole database pool."),
    Setting("hall_session_check_seconds", "HALL_SESSION_CHECK_SECONDS", float, 5.0,
            "How often a socket's login session is checked again on its next event (0: every "
            "event); a socket whose session ended or whose account was disabled is closed."),
    Setting("hall_process_lease_seconds", "HALL_PROCESS_LEASE_SECONDS", int, 15,
            "Lease of a server process on its sockets' hall tickets, refreshed every second; "
            "tickets of a process whose lease ran out (killed) count as disconnected since then."),
    Setting("hall_broadcast_window_seconds", "HALL_BROADCAST_WINDOW_SECONDS", float, 0.1,
            "A booth's state goes out at most once per this window (the first change after a "
            "quiet window at once): a burst of joins is one load and one batch of emits."),
    Setting("redis_url", "REDIS_URL", str, "",
            "Redis for socket.io across several processes (redis://host:6379/0; add "
            "?channel=NAME to keep deployments on one Redis apart). Empty: one process."),
    Setting("cpu_workers", "CPU_WORKERS", int, 2,
            "Threads for CPU-heavy work (password hashing, images, PDF, xlsx) off the event loop."),
    Setting("cpu_queue_limit", "CPU_QUEUE_LIMIT", int, 200,
            "Most password checks waiting for a CPU worker; past it a login, activation or "
            "password change is answered at once with 系统繁忙 instead of queueing for seconds."),
    Setting("argon2_time_cost", "ARGON2_TIME_COST", int, 4,
            "argon2id passes per password hash (one lane each; a hash made with other costs is "
            "re-hashed at its next login)."),
    Setting("argon2_memory_kib", "ARGON2_MEMORY_KIB", int, 9 * 1024,
            "argon2id memory per password hash, KiB (OWASP's 9 MiB with 4 passes: ~15 ms of "
            "one core; raise both on larger servers)."),
    Setting("loop_lag_probe_seconds", "LOOP_LAG_PROBE_SECONDS", float, 0.0,
            "How often the event-loop lag probe wakes (0: off); it records the worst stall."),
    Setting("gc_young_seconds", "GC_YOUNG_SECONDS", float, 0.25,
            "The cycle collector's young generation is collected at least this often, the "
            "older ones every 5 and 30 minutes (app/gcpacing.py), so a quiet hall's socket "
            "churn never piles up into one long pause. 0: CPython's own counts decide."),
    Setting("import_max_rows", "IMPORT_MAX_ROWS", int, 50_000,
            "Most data rows one import file may have; a larger file is refused, nothing imported."),
    Setting("import_max_columns", "IMPORT_MAX_COLUMNS", int, 100,
            "Most columns one import file may use; text past them refuses the file."),
    Setting("import_max_unzipped_bytes", "IMPORT_MAX_UNZIPPED_BYTES", int, 64 * 1024 * 1024,
            "Largest total an .xlsx may inflate to (checked on the zip's declared sizes first)."),
    Setting("import_max_seconds", "IMPORT_MAX_SECONDS", float, 300.0,
            "Longest time reading and checking one import file may take before the job fails."),
    Setting("import_lease_seconds", "IMPORT_LEASE_SECONDS", float, 30.0,
            "A running import job's claim, renewed while it runs; a job whose claim ran out "
            "(its process died) is resumed once by another process."),
    Setting("export_keep_hours", "EXPORT_KEEP_HOURS", float, 24.0,
            "How long a finished export's file is kept for its owner to download (我的导出); "
            "housekeeping removes it then."),
    Setting("export_jobs_per_user", "EXPORT_JOBS_PER_USER", int, 3,
            "Exports one user may have queued or running at once; another click waits for one."),
    Setting("export_workers", "EXPORT_WORKERS", int, 1,
            "Exports one process writes at once (each takes a CPU-pool thread while it "
            "writes); more wait their turn, in order."),
    Setting("housekeeping_seconds", "HOUSEKEEPING_SECONDS", float, 3600.0,
            "Period of the housekeeping job (expired sessions, codes, 找回密码 steps, finished "
            "import files, old sent mail); one process of the cluster runs it each period."),
    Setting("mail_retention_days", "MAIL_RETENTION_DAYS", int, 180,
            "Days a sent mail is kept in the outbox (邮件发件箱) before housekeeping deletes "
            "it; 0: kept forever. Mail not yet sent is never deleted."),
    Setting("trusted_proxies", "TRUSTED_PROXIES", _list, (),
            "Comma-separated addresses or networks (10.0.0.5, 10.0.0.0/24) of reverse proxies "
            "whose X-Forwarded-For and X-Forwarded-Proto are believed. Empty: none, the "
            "client address is the connection's peer."),
    Setting("metrics_allow", "METRICS_ALLOW", _list, ("127.0.0.1", "::1"),
            "Comma-separated client addresses or networks that may read /metrics; others get 404."),
    Setting("page_cache_entries", "PAGE_CACHE_ENTRIES", int, 2000,
            "Rendered public pages (招聘岗位 with its filters and pages, a job's page, the home "
            "page) kept per process for visitors not logged in; 0: no cache. A change to a job "
            "or an employer invalidates them at once (across processes through REDIS_URL)."),
    Setting("page_cache_bytes", "PAGE_CACHE_BYTES", int, 64 * 1024 * 1024,
            "Most bytes of rendered pages the cache keeps per process."),
    Setting("page_cache_seconds", "PAGE_CACHE_SECONDS", float, 300.0,
            "Longest a cached page or session is served; only matters for changes made outside "
            "the app (by hand in the database), which the caches cannot see."),
    Setting("session_cache_entries", "SESSION_CACHE_ENTRIES", int, 20000,
            "Logged-in sessions kept per process, so a page view does not read its session "
            "from the database; 0: no cache (nor of the pages below). A logout, a password "
            "change or a new 站内通知 drops the account's entries at once (across processes "
            "through REDIS_URL)."),
    Setting("account_page_cache_entries", "ACCOUNT_PAGE_CACHE_ENTRIES", int, 5000,
            "A student's own pages (学生中心, 我的投递) kept per process; 0: no cache. Any change "
            "to what such a page shows drops it at once (across processes through REDIS_URL)."),
    Setting("account_page_cache_bytes", "ACCOUNT_PAGE_CACHE_BYTES", int, 32 * 1024 * 1024,
            "Most bytes of those pages kept per process."),
    Setting("log_level", "LOG_LEVEL", str, "INFO", "Python logging level."),
    Setting("log_format", "LOG_FORMAT", _log_format, "text",
            "text: plain lines. json: one JSON object per line (time, level, logger, message, "
            "and for requests request_id, method, path, status, duration_ms); every response "
            "carries X-Request-ID (taken from a TRUSTED_PROXIES proxy, else made)."),
)


@dataclasses.dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    public_base_url: str
    smtp_host: str
    smtp_port: int
    smtp_username: str
    smtp_password: str
    smtp_starttls: bool
    mail_from: str
    outbox_poll_seconds: float
    outbox_max_backoff_seconds: float
    session_days: int
    login_limit: int
    login_limit_per_address: int
    login_window_seconds: int
    activation_limit: int
    activation_limit_per_address: int
    register_limit: int
    code_send_limit: int
    code_send_limit_per_address: int
    code_resend_seconds: int
    code_ttl_seconds: int
    code_max_tries: int
    sms_gateway: str
    upload_max_bytes: int
    image_max_bytes: int
    image_max_pixels: int
    storage_quota_bytes: int
    hall_open_minutes: int
    hall_answer_grace_seconds: int
    hall_waiter_grace_seconds: int
    stun_urls: tuple[str, ...]
    turn_urls: tuple[str, ...]
    turn_secret: str
    turn_ttl_seconds: int
    hall_employer_absent_minutes: int
    hall_event_rate: float
    hall_event_burst: int
    hall_events_in_flight: int
    hall_flood_refusals: int
    hall_account_concurrency: int
    hall_session_check_seconds: float
    hall_process_lease_seconds: int
    hall_broadcast_window_seconds: float
    redis_url: str
    cpu_workers: int
    cpu_queue_limit: int
    argon2_time_cost: int
    argon2_memory_kib: int
    loop_lag_probe_seconds: float
    gc_young_seconds: float
    import_max_rows: int
    import_max_columns: int
    import_max_unzipped_bytes: int
    import_max_seconds: float
    import_lease_seconds: float
    export_keep_hours: float
    export_jobs_per_user: int
    export_workers: int
    housekeeping_seconds: float
    mail_retention_days: int
    trusted_proxies: tuple[str, ...]
    metrics_allow: tuple[str, ...]
    page_cache_entries: int
    page_cache_bytes: int
    page_cache_seconds: float
    session_cache_entries: int
    account_page_cache_entries: int
    account_page_cache_bytes: int
    log_level: str
    log_format: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for s in SETTINGS:
            raw = env.get(s.env)
            if raw is None or raw == "":
                values[s.name] = s.default
            else:
                try:
                    values[s.name] = s.parse(raw)
                except ValueError as exc:
                    raise ValueError(f"{s.env}={raw!r}: {exc}") from exc
        values.update(overrides)
        return cls(**values).resolved()

    def resolved(self) -> "Settings":
        """Fill the defaults that depend on the data folder."""
        data_dir = Path(self.data_dir)
        changes: dict[str, Any] = {"data_dir": data_dir}
        if not self.database_url:
            changes["database_url"] = f"sqlite+aiosqlite:///{(data_dir / 'app.db').resolve()}"
        if not self.secret_key:
            changes["secret_key"] = _stored_secret(data_dir)
        return dataclasses.replace(self, **changes)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def secure_cookies(self) -> bool:
        return self.public_base_url.startswith("https://")


TOOL_VARIABLES = {  # read by tools, not by the app
    "ADMIN_PASSWORD": "The password `create-admin` sets (else it asks).",
    "TEST_DB": "`postgres` runs the tests on PostgreSQL.",
    "PG_URL": "The PostgreSQL server of the tests (default "
              "`postgresql+asyncpg://postgres@127.0.0.1:5432/test`).",
    "REQUIRE_PG": "`1`: `make test` fails when PostgreSQL does not answer (CI sets it).",
}


def _shown(default: Any) -> str:
    if default == "" or default == ():
        return "empty"
    if isinstance(default, bool):
        return "`true`" if default else "`false`"
    if isinstance(default, tuple):
        return "`" + ",".join(map(str, default)) + "`"
    return f"`{default}`"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def settings_document() -> str:
    """docs/settings.md, generated from SETTINGS."""
    lines = ["# Settings", "",
             "Generated from `app/config.py` by `python -m app settings-doc > docs/settings.md`;",
             "do not edit by hand. Every setting is read from the environment once, at start.", "",
             "| variable | default | meaning |", "|---|---|---|"]
    lines += [f"| `{s.env}` | {_shown(s.default)} | {_cell(s.help)} |" for s in SETTINGS]
    lines += ["", "Read by tools only:", "", "| variable | meaning |", "|---|---|"]
    lines += [f"| `{name}` | {_cell(text)} |" for name, text in TOOL_VARIABLES.items()]
    return "\n".join(lines) + "\n"


def _stored_secret(data_dir: Path) -> str:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key)
    path.chmod(0o600)
    return key
