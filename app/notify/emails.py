"""Emails are templates: templates/email/<name>/{subject.txt, body.txt, body.html}.

Callers give only a template name and its context; enqueue() renders and stores the mail
in the outbox inside the caller's transaction, so a mail exists exactly when the change
that caused it was committed.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from sqlalchemy.ext.asyncio import AsyncConnection

from ..tables import email_outbox

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
SUBJECT_MAX = 200  # email_outbox.subject
# CR and LF end a header line (a name with a line break would inject headers or, in the
# email package, refuse to build at all); the other control characters have no place in
# a header either.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def header_text(value: str, limit: int = SUBJECT_MAX) -> str:
    """The one helper for text that goes into a mail header (subjects, names): one line,
    no control characters, runs of white space as one space, at most `limit` characters."""
    return " ".join(_CONTROL.sub(" ", value).split())[:limit]


@functools.cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES / "email"),
                              autoescape=jinja2.select_autoescape(["html"]),
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=False)


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def render(name: str, context: dict[str, Any]) -> tuple[str, str, str | None]:
    env = _env()
    # Subjects carry user-typed names (an employer's 单位名称): sanitised where built.
    subject = header_text(env.get_template(f"{name}/subject.txt").render(context))
    text = env.get_template(f"{name}/body.txt").render(context)
    try:
        html = env.get_template(f"{name}/body.html").render(context)
    except jinja2.TemplateNotFound:
        html = None
    return subject, text, html


# The outbox sends lower first. A code someone is waiting for goes before everything; mail a
# user causes to be sent to an address they typed goes last, so no amount of it delays the
# rest (each such sender is also rate-limited where the mail is asked for).
PRIORITY_CODE, PRIORITY_NOTICE, PRIORITY_TYPED_ADDRESS = 0, 5, 9
PRIORITIES = {"reset_code": PRIORITY_CODE, "agreement_confirm": PRIORITY_TYPED_ADDRESS}


async def enqueue(conn: AsyncConnection, *, to: str, template: str, context: dict[str, Any],
                  at: dt.datetime, attachments: tuple[Attachment, ...] = ()) -> None:
    subject, text, html = render(template, context)
    await conn.execute(email_outbox.insert().values(
        priority=PRIORITIES.get(template, PRIORITY_NOTICE),
        to_addr=to, subject=subject, body_text=text, body_html=html, template=template,
        attachments=[{"filename": a.filename, "content_type": a.content_type,
                      "data": base64.b64encode(a.data).decode()} for a in attachments],
        status="pending", attempts=0, next_attempt_at=at, created_at=at))
