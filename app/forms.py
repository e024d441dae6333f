"""A small form object: the values the user typed, and an error per field.

Handlers re-render the page with the same Form on error, so what the user typed stays
and each message stands next to its field.
"""

from __future__ import annotations

from typing import Callable, Mapping, TypeVar

from .validators import Invalid

T = TypeVar("T")


class Form:
    def __init__(self, data: Mapping[str, str] | None = None) -> None:
        self.values: dict[str, str] = {k: v for k, v in (data or {}).items() if isinstance(v, str)}
        self.errors: dict[str, str] = {}

    def get(self, name: str) -> str:
        return self.values.get(name, "")

    def required(self, name: str, label: str) -> str:
        value = self.get(name).strip()
        if not value:
            self.errors.setdefault(name, f"请填写{label}")
        return value

    def check(self, name: str, label: str, check: Callable[[str], T]) -> T | None:
        """Run a normalising check on a required field; record its message on failure."""
        value = self.required(name, label)
        if not value:
            return None
        try:
            return check(value)
        except Invalid as exc:
            self.errors.setdefault(name, str(exc))
            return None

    def confirm_password(self, password: str | None, name: str = "password2") -> None:
        """The 确认密码 field must repeat the (valid) password."""
        if self.required(name, "确认密码") and password and self.get(name) != password:
            self.error(name, "两次输入的密码不一致")

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, message)

    @property
    def ok(self) -> bool:
        return not self.errors


class FormError(Exception):
    """Raised by a service when input is wrong; carries field → message."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)
