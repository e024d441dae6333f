"""The hall benchmark still runs end to end: tiny numbers, figures printed, exit 0.
No timing is asserted: this proves the benchmark works, not how fast the hall is."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_hall_load_benchmark_runs_and_prints_its_figures():
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "hall_load.py"), "--clients", "20", "--booths", "2",
         "--calls", "4", "--stagger", "0.05", "--timeout", "120"],
        cwd=ROOT, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "clients connected: 22 of 22" in out
    for name in ("call-next -> called notified", "call-next -> position update",
                 "echo (ping ack RTT)"):
        assert re.search(rf"{re.escape(name)}\s+n=\d+\s+p50=\s*[\d.]+ ms\s+p99=\s*[\d.]+ ms", out), out
    assert re.search(r"server RSS: [\d.]+ MB now, [\d.]+ MB peak", out), out
    for ratio in ("call-next p50 / echo p50", "call-next p99 / echo p99",
                  "position update p50 / echo p50", "position update p99 / echo p99"):
        assert re.search(rf"^ratio {re.escape(ratio)}: \d+\.\d\d$", out, re.M), out
    # the admins' monitor: its update delay is printed (a number, not a bound on it)
    assert re.search(r"^monitor: 1 platform admin\(s\) on /monitor", out, re.M), out
    for name in ("join -> monitor booth update", "call-next -> monitor booth update"):
        found = re.search(rf"^{re.escape(name)}\s+n=(\d+)\s+p50=\s*([\d.]+) ms\s+p95=\s*([\d.]+) ms"
                          rf"\s+p99=\s*([\d.]+) ms\s+max=\s*([\d.]+) ms$", out, re.M)
        assert found, out
        assert int(found[1]) > 0 and all(float(v) > 0 for v in found.groups()[1:]), found[0]
    assert re.search(r"^monitor booth events received: [1-9]\d* by 1 admin\(s\)", out, re.M), out
    ratio = re.search(r"^monitor update delay p99 / 2000 ms budget = (\d+\.\d\d)$", out, re.M)
    assert ratio and float(ratio[1]) > 0, out


def test_statistics_benchmark_runs_and_prints_its_ratio_lines():
    args = [sys.executable, str(ROOT / "bench" / "statistics.py"), "--schools", "2",
            "--graduates", "300", "--requests", "3", "--import-rows", "500"]
    if os.environ.get("TEST_DB") == "postgres":
        args += ["--db", "postgres"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for name in ("school", "platform"):
        assert re.search(rf"statistics page \({name}\s*\) n=3 p50=\s*[\d.]+ ms p99=\s*[\d.]+ ms", out), out
    assert re.search(r"export of 300 graduates: [\d.]+ s", out), out
    for ratio in ("school p99 / 300 ms", "platform p99 / 1 s", "export s / 10 s",
                  "school export s / 1 s", "RSS growth / 100 MB",
                  "school p99 during the export / at rest", "import s / 30 s",
                  "import RSS growth / 100 MB"):
        assert re.search(rf"^ratio {re.escape(ratio)}: -?\d+\.\d\d$", out, re.M), out


def test_staff_lists_benchmark_runs_and_prints_its_ratio_lines():
    args = [sys.executable, str(ROOT / "bench" / "staff_lists.py"), "--schools", "2",
            "--graduates", "300", "--requests", "3"]
    if os.environ.get("TEST_DB") == "postgres":
        args += ["--db", "postgres"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for name in ("school list", "school 学生档案", "platform list", "platform drill-down"):
        assert re.search(rf"^{re.escape(name)}\s+n=3 p50=\s*[\d.]+ ms p99=\s*[\d.]+ ms", out, re.M), out
    assert re.search(r"^drill-downs whose list count differs from the number: 0 of 3$", out, re.M), out
    for ratio in ("school list p99 / 300 ms", "school 学生档案 p99 / 300 ms",
                  "platform list p99 / 1000 ms", "platform drill-down p99 / 1000 ms"):
        assert re.search(rf"^ratio {re.escape(ratio)}: \d+\.\d\d$", out, re.M), out


@pytest.mark.engine_independent  # two browsers and their WebRTC: the SQLite run covers it
def test_call_setup_benchmark_runs_one_call_and_prints_its_figures():
    args = [sys.executable, str(ROOT / "bench" / "call_setup.py"), "--calls", "1", "--timeout", "240"]
    if os.environ.get("TEST_DB") == "postgres":
        args += ["--db", "postgres"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert re.search(r"^calls measured: 1$", out, re.M), out
    for name in (r"first frame \(student \)", r"first frame \(employer\)", "video on both sides  "):
        found = re.search(rf"^click -> {name}\s+median=\s*(\d+) ms\s+max=\s*(\d+) ms$", out, re.M)
        assert found and int(found[1]) > 0 and found[1] == found[2], out
    # the phases on the way are there, in the page's own timestamps
    for side, phase in (("employer", "sent offer"), ("student", "got offer"),
                        ("student", "ICE connected"), ("employer", "first frame")):
        assert re.search(rf"^  {side}\s+{phase}\s+-?\d+ ms\s+\(n=1\)$", out, re.M), out
    assert re.search(r"^ratio median / 1000 ms goal: \d+\.\d\d$", out, re.M), out


def test_pages_benchmark_runs_and_prints_its_figures_and_ratios():
    args = [sys.executable, str(ROOT / "bench" / "pages.py"), "--jobs", "30", "--seconds", "1",
            "--connections", "4"]
    if os.environ.get("TEST_DB") == "postgres":
        args += ["--db", "postgres"]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for name in ("hello", "job board", "job page", "学生中心", "我的投递", "学生中心 uncached",
                 "我的投递 uncached"):
        found = re.search(rf"^{re.escape(name)}\s+req/s=\s*([\d.]+) p99=\s*([\d.]+) ms$", out, re.M)
        assert found and float(found[1]) > 0 and float(found[2]) > 0, out
    for name in ("job board", "job page", "学生中心", "我的投递"):
        assert re.search(rf"^ratio {re.escape(name)} req/s / hello req/s: \d+\.\d\d \(goal", out, re.M), out
        assert re.search(rf"^ratio {re.escape(name)} p99 / hello p99: \d+\.\d\d$", out, re.M), out
    for name in ("学生中心 uncached", "我的投递 uncached"):
        assert re.search(rf"^ratio {re.escape(name)} req/s / hello req/s: \d+\.\d\d$", out, re.M), out
