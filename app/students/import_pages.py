"""What the pages of both imports (学生信息 and 生源) answer alike: the template file and a
job's progress for the polling page."""

from __future__ import annotations

import csv
import io
from typing import Any, Sequence

from aiohttp import web


def csv_template(header: Sequence[str], filename: str) -> web.Response:
    """An empty csv with the header row, with a BOM so Excel reads it as UTF-8."""
    out = io.StringIO()
    csv.writer(out).writerow(header)
    return web.Response(body=("\ufeff" + out.getvalue()).encode(), content_type="text/csv",
                        charset="utf-8",
                        headers={"Content-Disposition": f"attachment; filename={filename}"})


def job_status(job: Any) -> web.Response:
    return web.json_response({
        "status": job.status, "total": job.total_rows, "processed": job.processed_rows,
        "created": job.created_rows, "updated": job.updated_rows,
        "failed_rows": len({e["row"] for e in job.errors}), "message": job.message})
