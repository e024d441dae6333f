"""The command line as an operator uses it: migrate, demo, import-students, create-admin, serve."""

import datetime as dt
import os
import subprocess
import sys
import time
import urllib.request

from app.destinations.tables import graduate_destinations
from app.signing.tables import agreements
from app.tables import accounts, schools, student_records
from app.validators import make_id_number
from tests.conftest import count
from tests.mailbox import free_port


def run(args, env, check=True, **kw):
    result = subprocess.run([sys.executable, "-m", "app", *args], env=env, capture_output=True,
                            text=True, timeout=120, **kw)
    if check and result.returncode != 0:
        raise AssertionError(result.stderr + result.stdout)
    return result


def cli_env(database_url, tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SMTP_HOST")}
    return {**env, "DATABASE_URL": database_url, "DATA_DIR": str(tmp_path / "cli-data"), **extra}


async def test_migrate_demo_import_and_create_admin(database_url, tmp_path):
    env = cli_env(database_url, tmp_path)
    assert "最新版本" in run(["migrate"], env).stdout
    first = run(["demo", "--if-empty"], env).stdout
    assert "演示数据已载入" in first and "demo_employer" in first and "Demo12345" in first
    second = run(["demo", "--if-empty"], env).stdout  # make run twice: data kept, logins shown
    assert "演示数据已载入" not in second and "demo_admin" in second
    assert run(["demo"], env, check=False).returncode == 1
    assert await count(database_url, schools) == 1
    students = await count(database_url, student_records)
    # 签约中心 can be tried at once: an invitation waiting, and one effective agreement.
    assert await count(database_url, agreements, agreements.c.status == "invited") == 1
    assert await count(database_url, agreements, agreements.c.status == "effective") == 1
    assert await count(database_url, graduate_destinations, graduate_destinations.c.code == "10") == 1

    csv_path = tmp_path / "名单.csv"
    good_id = make_id_number("110101", dt.date(2000, 1, 1), 17)
    bad_id = good_id[:17] + ("0" if good_id[17] != "0" else "1")
    csv_path.write_text("学号,姓名,身份证号,学院,专业,学历,毕业年份\n"
                        f"C001,测试,{good_id},计算机学院,软件工程,本科生,2026\n"
                        f"C002,测试二,{bad_id},计算机学院,软件工程,本科生,2026\n",
                        encoding="utf-8")
    out = run(["import-students", str(csv_path), "--school", "90001"], env).stdout
    assert "共 2 行：新增 1，更新 0，失败 1" in out and "第3行 身份证号：身份证号校验位不正确" in out
    assert await count(database_url, student_records) == students + 1
    missing = run(["import-students", str(csv_path), "--school", "00000"], env, check=False)
    assert missing.returncode == 1 and "没有代码为 00000 的学校" in missing.stderr

    env["ADMIN_PASSWORD"] = "weak"
    assert run(["create-admin", "--username", "ops"], env, check=False).returncode == 1
    env["ADMIN_PASSWORD"] = "Strong12345"
    assert "平台管理员" in run(["create-admin", "--username", "ops"], env).stdout
    assert "学校管理员" in run(["create-admin", "--username", "ops2", "--role", "school",
                                "--school", "90001"], env).stdout
    assert await count(database_url, accounts, accounts.c.username.in_(["ops", "ops2"])) == 2


def test_serve_answers_on_the_given_port(database_url, tmp_path):
    env = cli_env(database_url, tmp_path)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app", "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)  # a separate process: nothing to await but its port
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as r:
            assert "学生激活" in r.read().decode()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def test_a_command_tells_the_serving_processes_caches_through_redis(database_url, tmp_path):
    """create-admin writes an account: with REDIS_URL the serving processes' logged-in
    caches (app/accountcache.py) hear of it as of their own writes."""
    import uuid

    import pytest

    from app.accountcache import RedisGenerations
    url = f"redis://127.0.0.1:6379/0?channel=t{uuid.uuid4().hex[:8]}"
    generations = RedisGenerations(url)
    try:
        before = await generations.current(1)
        if before is None:
            pytest.skip("Redis at 127.0.0.1:6379 is not reachable")
        env = cli_env(database_url, tmp_path, REDIS_URL=url, ADMIN_PASSWORD="Strong12345")
        run(["migrate"], env)
        assert await generations.current(1) == before
        run(["create-admin", "--username", "ops"], env)
        after = await generations.current(1)  # an account row: the groups that read accounts
        assert after["session"][0] != before["session"][0]
        assert after["my_applications"] == before["my_applications"]
    finally:
        await generations.close()
