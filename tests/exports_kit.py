"""Exports through their jobs, as a user clicks them: 【导出…】 (a POST answered at once with
the progress page), the job written by the app's runner, then the file downloaded."""

from __future__ import annotations

import io

import openpyxl

from app.exports.runner import EXPORTS
from app.exports.views import XLSX_TYPE
from tests.conftest import FormClient


async def ask(client: FormClient, kind: str, **filters: str):  # noqa: ANN201
    """The click: the response (303 to the job's page when it was taken)."""
    return await client.post("/exports", {"kind": kind, **filters})


async def job_url(client: FormClient, kind: str, **filters: str) -> str:
    resp = await ask(client, kind, **filters)
    assert resp.status == 303, (resp.status, await resp.text())
    return resp.headers["Location"].split("?")[0]


async def finished(client: FormClient, url: str) -> dict:
    """The job's status once the runner has written it."""
    await client.app[EXPORTS].drain()
    return await (await client.get(url + "/status")).json()


async def exported(client: FormClient, kind: str, **filters: str) -> openpyxl.Workbook:
    """The workbook of one export, as its owner downloads it."""
    url = await job_url(client, kind, **filters)
    status = await finished(client, url)
    assert status["status"] == "done", status
    resp = await client.get(status["download"])
    assert resp.status == 200, resp.status
    assert resp.headers["Content-Type"].startswith(XLSX_TYPE)
    return openpyxl.load_workbook(io.BytesIO(await resp.read()))
