"""iCalendar (RFC 5545) files for interview invitations, written by hand: one VEVENT.

The same UID with a higher SEQUENCE updates the event in the student's calendar when an
interview is rescheduled; METHOD:CANCEL removes it when the interview is cancelled.
"""

from __future__ import annotations

import datetime as dt


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space (RFC 5545 3.1)."""
    out, current = [], b""
    for ch in line:
        encoded = ch.encode()
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def interview_event(*, uid: str, sequence: int, starts_at: dt.datetime, minutes: int,
                    summary: str, description: str, url: str, stamp: dt.datetime,
                    cancelled: bool = False) -> bytes:
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//gaoxiao-jiuye//interviews//ZH",
        "CALSCALE:GREGORIAN", f"METHOD:{'CANCEL' if cancelled else 'PUBLISH'}",
        "BEGIN:VEVENT", f"UID:{uid}", f"SEQUENCE:{sequence}", f"DTSTAMP:{_utc(stamp)}",
        f"DTSTART:{_utc(starts_at)}", f"DTEND:{_utc(starts_at + dt.timedelta(minutes=minutes))}",
        f"SUMMARY:{_escape(summary)}", f"DESCRIPTION:{_escape(description)}",
        f"URL:{url}", f"LOCATION:{_escape('洽谈面试大厅 ' + url)}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:视频面试即将开始", "TRIGGER:-PT15M",
        "END:VALARM", "END:VEVENT", "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()
