"""Command line: python -m app serve|migrate|create-admin|import-students|demo."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

from .clock import Clock
from .config import Settings
from .db import Database


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app", description="高校毕业生就业信息网")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the site")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    sub.add_parser("migrate", help="create or upgrade the database schema")
    admin = sub.add_parser("create-admin", help="create a staff account")
    admin.add_argument("--username", required=True)
    admin.add_argument("--name", default="")
    admin.add_argument("--role", choices=["platform", "school", "counselor"], default="platform")
    admin.add_argument("--school", help="school code (school admins and counselors)")
    admin.add_argument("--college", help="college code (counselors)")
    admin.add_argument("--email")
    imp = sub.add_parser("import-students", help="import student records from csv or xlsx")
    imp.add_argument("file", type=Path)
    imp.add_argument("--school", required=True, help="school code")
    sub.add_parser("settings-doc", help="print docs/settings.md, generated from app/config.py")
    demo = sub.add_parser("demo", help="load demo data")
    demo.add_argument("--if-empty", action="store_true", help="only into an empty database")
    args = parser.parse_args(argv)
    if args.command == "settings-doc":  # needs no settings: it documents them
        from .config import settings_document
        sys.stdout.write(settings_document())
        return 0
    settings = Settings.from_env()
    from .security import configure_passwords
    configure_passwords(settings.argon2_time_cost, settings.argon2_memory_kib)

    if args.command == "serve":
        from aiohttp import web

        from .logs import access_log_options
        from .web import create_app
        _tune_malloc()  # before any thread starts
        app = create_app(settings)
        app.on_startup.append(_tune_gc)
        web.run_app(app, host=args.host, port=args.port, **access_log_options(settings),
                    print=lambda _: print(f"服务已启动：http://{args.host}:{args.port}/", flush=True))
        _exit_past_busy_threads()
        return 0
    if args.command == "migrate":
        from .migrate import upgrade
        upgrade(settings.database_url)
        print("数据库已迁移到最新版本")
        return 0
    return asyncio.run(_run_async(args, settings))


def _exit_past_busy_threads(grace: float = 3.0) -> None:
    """run_app has run every cleanup: import jobs handed back, the database closed. A CPU
    pool thread can still be inside one library call that cannot be interrupted (openpyxl
    loading a workbook, between the import's cancel checks), and the interpreter would wait
    for it at exit, however long it takes. Nothing it produces is wanted any more: after a
    short grace the process ends without waiting."""
    import logging
    import threading
    import time
    deadline = time.monotonic() + grace
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join(max(0.0, deadline - time.monotonic()))
    if any(t.is_alive() and not t.daemon and t is not threading.main_thread()
           for t in threading.enumerate()):
        logging.getLogger(__name__).warning("stopping without waiting for busy worker threads")
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _tune_malloc() -> None:
    """glibc's malloc, tuned for one long-running process with threads (nothing to do on
    another C library):
    - at most two arenas: each thread (the CPU pool's, aiosqlite's one per connection)
      would otherwise get one of its own, up to eight per core, each keeping what it freed;
    - blocks of 256 KiB and more always mmap'd, so given back when freed. By default the
      threshold rises to the largest block ever freed: after the first login, every
      argon2 check's memory (9 to 19 MiB) came from an arena and stayed in the process
      (bench/hall_load.py's RSS with 20 logins a second)."""
    import ctypes
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    m_arena_max, m_mmap_threshold = -8, -3  # <malloc.h>
    mallopt(m_arena_max, 2)
    mallopt(m_mmap_threshold, 256 * 1024)


async def _tune_gc(app) -> None:  # noqa: ANN001
    from .gcpacing import tune
    from .state import SETTINGS
    tune(paced=app[SETTINGS].gc_young_seconds > 0)


async def _run_async(args: argparse.Namespace, settings: Settings) -> int:
    db = Database(settings.database_url)
    generations = _tell_caches(db, settings)
    try:
        if args.command == "demo":
            return await _demo(db, settings, args.if_empty)
        if args.command == "create-admin":
            return await _create_admin(db, args)
        if args.command == "import-students":
            return await _import(db, settings, args)
    finally:
        await db.dispose()
        for generation in generations:
            await generation.close()
    return 2


def _tell_caches(db: Database, settings: Settings) -> list:
    """With REDIS_URL, a command's writes (an import, a new admin) drop the serving
    processes' cached pages and sessions as their own writes do. Without it the caches
    cannot hear of them; PAGE_CACHE_SECONDS bounds how long they are not seen."""
    if not settings.redis_url:
        return []
    from .accountcache import RedisGenerations, watch
    from .pagecache import WATCHED_TABLES as PUBLIC_TABLES, RedisGeneration
    public, accounts = RedisGeneration(settings.redis_url), RedisGenerations(settings.redis_url)
    db.on_commit(PUBLIC_TABLES, public.bump)
    watch(db, accounts)
    return [public, accounts]


async def _demo(db: Database, settings: Settings, if_empty: bool) -> int:
    from . import demo
    from .uploads import FileStore
    if await demo.is_empty(db):
        await demo.load(db, FileStore(settings.data_dir), Clock().now(), settings.public_base_url)
        print("演示数据已载入")
    elif not if_empty:
        print("数据库已有数据，未载入演示数据", file=sys.stderr)
        return 1
    print(demo.logins_text())
    return 0


async def _create_admin(db: Database, args: argparse.Namespace) -> int:
    import sqlalchemy as sa

    from .auth import service
    from .roles import Role
    from .tables import colleges, schools
    from .validators import Invalid, check_password

    password = os.environ.get("ADMIN_PASSWORD") or getpass.getpass("密码：")
    try:
        check_password(password)
    except Invalid as exc:
        print(exc, file=sys.stderr)
        return 1
    role = {"platform": Role.PLATFORM_ADMIN, "school": Role.SCHOOL_ADMIN,
            "counselor": Role.COUNSELOR}[args.role]
    async with db.write() as conn:
        school_id = college_id = None
        if role != Role.PLATFORM_ADMIN:
            school_id = (await conn.execute(sa.select(schools.c.id).where(
                schools.c.code == (args.school or "")))).scalar()
            if school_id is None:
                print("请用 --school 指定已有的学校代码", file=sys.stderr)
                return 1
        if role == Role.COUNSELOR:
            college_id = (await conn.execute(sa.select(colleges.c.id).where(
                colleges.c.school_id == school_id, colleges.c.code == (args.college or "")))).scalar()
            if college_id is None:
                print("请用 --college 指定该校已有的学院代码", file=sys.stderr)
                return 1
        await service.create_staff_account(conn, role=role, username=args.username,
                                           password=password, now=Clock().now(),
                                           display_name=args.name or args.username,
                                           email=args.email, school_id=school_id,
                                           college_id=college_id)
    print(f"已创建{role.label}账号 {args.username}")
    return 0


async def _import(db: Database, settings: Settings, args: argparse.Namespace) -> int:
    from .offload import CpuPool
    from .students import imports, report, service
    from .students.workbooks import error_rows_path

    async with db.read() as conn:
        school = await service.school_by_code(conn, args.school)
    if school is None:
        print(f"没有代码为 {args.school} 的学校", file=sys.stderr)
        return 1
    cpu = CpuPool(settings.cpu_workers)
    try:
        runner = imports.ImportRunner(db, settings, Clock(), cpu)
        job_id = await runner.create(school_id=school.id, account_id=None,
                                     filename=args.file.name, data=args.file.read_bytes())
        await runner.run(job_id)
    finally:
        cpu.close()
    job = await imports.job(db, job_id, school.id)
    if job.status == "failed":
        print(f"导入失败：{job.message}", file=sys.stderr)
        return 1
    found = report.of_job(job)
    print(f"共 {job.total_rows} 行：新增 {job.created_rows}，更新 {job.updated_rows}，"
          f"失败 {found['failed_rows']}")
    for change in found["changes"]:
        print(f"  已更正 {change['field']}：{change['change']} — {change['rows']:,} 行")
    for e in job.errors:
        print(f"  第{e['row']}行 {e['field']}：{e['reason']}")
    if found["error_file"]:
        print(f"错误行（改正后可直接导入）：{error_rows_path(job.stored_path)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
