"""iCalendar (RFC 5545) files for interview invitations, written by hand: one VEVENT.

iTIP (RFC 5546): an invitation and its update are METHOD:REQUEST from the employer (the
ORGANIZER) to the student (the one ATTENDEE); the same UID with a higher SEQUENCE updates
the event in the student's calendar when an interview is rescheduled; METHOD:CANCEL, which
must name both too, removes it. REQUEST rather than PUBLISH because PUBLISH may not carry
attendees; RSVP=FALSE because the student answers on the site (【查看面试邀请】), not by a
calendar reply.
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


def _cn(name: str) -> str:
    """A CN parameter as a quoted string; a DQUOTE cannot appear in one (RFC 5545 3.1)."""
    return '"' + name.replace('"', "'") + '"'


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def method(cancelled: bool) -> str:
    """The iTIP method of the file, also named in its MIME type."""
    return "CANCEL" if cancelled else "REQUEST"


def interview_event(*, uid: str, sequence: int, starts_at: dt.datetime, minutes: int,
                    summary: str, description: str, url: str, stamp: dt.datetime,
                    organizer: tuple[str, str], attendee: tuple[str, str],
                    cancelled: bool = False) -> bytes:
    """`organizer` and `attendee` are (name, email address)."""
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//gaoxiao-jiuye//interviews//ZH",
        "CALSCALE:GREGORIAN", f"METHOD:{method(cancelled)}",
        "BEGIN:VEVENT", f"UID:{uid}", f"SEQUENCE:{sequence}", f"DTSTAMP:{_utc(stamp)}",
        f"ORGANIZER;CN={_cn(organizer[0])}:mailto:{organizer[1]}",
        f"ATTENDEE;CN={_cn(attendee[0])};CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;"
        f"PARTSTAT=NEEDS-ACTION;RSVP=FALSE:mailto:{attendee[1]}",
        f"DTSTART:{_utc(starts_at)}", f"DTEND:{_utc(starts_at + dt.timedelta(minutes=minutes))}",
        f"SUMMARY:{_escape(summary)}", f"DESCRIPTION:{_escape(description)}",
        f"URL:{url}", f"LOCATION:{_escape('洽谈面试大厅 ' + url)}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:视频面试即将开始", "TRIGGER:-PT15M",
        "END:VALARM", "END:VEVENT", "END:VCALENDAR",
    ]
    return ("\r\n".join(_fold(line) for line in lines) + "\r\n").encode()
