"""SMS gateways. SMS_GATEWAY picks one: `outbox` keeps every message in the SMS outbox
(read at 短信发件箱; no provider needed), `module:Class` names a provider class.

A provider class is built with no arguments (it reads its own credentials, e.g. from the
environment) and implements `async send(to, text) -> None`. It raises TemporarySmsError
for what may work later (network, throttling: the message is retried) and PermanentSmsError
for what never will (an empty or blocked number: the message is marked failed). Any other
exception counts as temporary, so a provider bug delays messages but loses none.
"""

from __future__ import annotations

import importlib
import re
from typing import Protocol


class SmsError(Exception):
    """A gateway could not deliver a message."""


class TemporarySmsError(SmsError):
    """Try again later."""


class PermanentSmsError(SmsError):
    """Never try this message again."""


class SmsGateway(Protocol):
    async def send(self, to: str, text: str) -> None: ...


class KeepInOutbox:
    """The default: nothing leaves the site; each message stays readable at 短信发件箱."""

    keeps = True

    async def send(self, to: str, text: str) -> None:
        return None


_SPEC = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


def load_gateway(spec: str) -> SmsGateway:
    """The gateway SMS_GATEWAY names. A wrong value stops start-up with a clear error."""
    spec = spec.strip()
    if spec in ("", "outbox"):
        return KeepInOutbox()
    if not _SPEC.fullmatch(spec):
        raise ValueError(f"SMS_GATEWAY={spec!r}: expected 'outbox' or 'package.module:Class'")
    module_name, _, class_name = spec.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"SMS_GATEWAY={spec!r}: {exc}") from exc
    gateway = cls()
    if not callable(getattr(gateway, "send", None)):
        raise ValueError(f"SMS_GATEWAY={spec!r}: {class_name} has no send(to, text) method")
    return gateway


def keeps_messages(gateway: SmsGateway) -> bool:
    return bool(getattr(gateway, "keeps", False))
