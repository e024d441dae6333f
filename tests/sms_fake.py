"""The SMS provider at the edge of the world (the one place a fake is allowed): it records
what it is given, and tests script its refusals. Chosen through the real setting:
SMS_GATEWAY=tests.sms_fake:FakeGateway."""

from __future__ import annotations

import asyncio

from app.sms.gateway import PermanentSmsError, TemporarySmsError

SPEC = "tests.sms_fake:FakeGateway"


class FakeGateway:
    delivered: list[tuple[str, str]] = []
    temporary: dict[str, int] = {}  # number → how many more tries fail for now
    permanent: set[str] = set()     # numbers the provider refuses for good
    arrived: asyncio.Event | None = None

    @classmethod
    def reset(cls) -> None:
        cls.delivered, cls.temporary, cls.permanent = [], {}, set()
        cls.arrived = asyncio.Event()

    async def send(self, to: str, text: str) -> None:
        await asyncio.sleep(0)  # a real provider call yields to the loop: let other workers run
        if to in self.permanent:
            raise PermanentSmsError("号码不存在")
        if self.temporary.get(to, 0) > 0:
            self.temporary[to] -= 1
            raise TemporarySmsError("网关繁忙，请稍后重试")
        self.delivered.append((to, text))
        if self.arrived is not None:
            self.arrived.set()
