"""What the signing pages share: the agreement's display context and small helpers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from aiohttp import web

from ... import codes
from ...employers import codes as employer_codes
from ...reviews.common import int_param, see_other  # noqa: F401 (re-exported for the views)
from ...state import SETTINGS
from .. import fields
from ..flows import STATE_LABELS, flow_of
from ..review import check_code, verify_label


def verify_url(request: web.Request, row: sa.Row) -> str | None:
    if not row.verify_token:
        return None
    path = request.app.router["agreement_verify"].url_for(token=row.verify_token)
    return f"{request.app[SETTINGS].public_base_url}{path}"


def sheet_context(request: web.Request, row: sa.Row, *,
                  changed: set[str] | None = None) -> dict[str, Any]:
    """Everything the agreement template shows: screen, PDF and PNG use this one context."""
    from ...documents import qr_data_uri
    url = verify_url(request, row)
    data = row.data or {}
    return {
        "ag": row, "data": data, "sheet_parts": [(title, fields.display_rows(data, specs))
                                           for title, specs in fields.ONLINE_PARTS],
        "changed": changed or set(), "state_label": STATE_LABELS.get(row.status, row.status),
        "verify_label": verify_label(row.status), "verify_url": url,
        "check_code": check_code(row.verify_token),
        "qr_src": qr_data_uri(url) if url else None,
        "training_mode": codes.TRAINING_MODE.get(row.training_mode or "", ""),
        "gender": codes.GENDER.get(row.gender, ""),
    }


def form_context() -> dict[str, Any]:
    """Selects and the area cascade of the agreement form."""
    return {"parts": fields.ONLINE_PARTS, "area_tree": codes.area_tree(),
            "counties": codes.county_choices(),
            "choices": {"nature": employer_codes.options(employer_codes.NATURE),
                        "industry": employer_codes.options(employer_codes.INDUSTRY),
                        "position_category": employer_codes.options(employer_codes.POSITION),
                        "archive_accept": list(fields.YES_NO.items()),
                        "hukou_accept": list(fields.YES_NO.items())}}


def flow_for(row: sa.Row):  # noqa: ANN201
    return flow_of(row.channel)
