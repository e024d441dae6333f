"""Roles and the per-route access declaration.

Every handler declares who may call it with `@allow(...)` or `@public`. The access
middleware refuses any route that declares nothing, so a forgotten declaration fails
closed; tests/test_access.py walks the route table to prove each one is declared.
"""

from __future__ import annotations

import enum
from typing import Callable, TypeVar

H = TypeVar("H", bound=Callable)

ACCESS_ATTR = "__allowed_roles__"
PUBLIC = "public"


class Role(enum.StrEnum):
    STUDENT = "student"
    EMPLOYER = "employer"
    COUNSELOR = "counselor"
    SCHOOL_ADMIN = "school_admin"
    PLATFORM_ADMIN = "platform_admin"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def centre_name(self) -> str:
        """The one name of the role's home page: its navigation link, title and heading."""
        return CENTRE_NAMES[self]

    @property
    def is_staff(self) -> bool:
        return self in STAFF_ROLES


ROLE_LABELS = {
    Role.STUDENT: "学生",
    Role.EMPLOYER: "用人单位",
    Role.COUNSELOR: "辅导员",
    Role.SCHOOL_ADMIN: "学校管理员",
    Role.PLATFORM_ADMIN: "平台管理员",
}
# PRODUCT.md's 学生中心 / 单位中心 / 管理中心; "用人单位中心" is nobody's word for it.
CENTRE_NAMES = {
    Role.STUDENT: "学生中心",
    Role.EMPLOYER: "单位中心",
    Role.COUNSELOR: "辅导员中心",
    Role.SCHOOL_ADMIN: "管理中心",
    Role.PLATFORM_ADMIN: "平台管理中心",
}
STAFF_ROLES = frozenset({Role.COUNSELOR, Role.SCHOOL_ADMIN, Role.PLATFORM_ADMIN})


def allow(*roles: Role) -> Callable[[H], H]:
    def mark(handler: H) -> H:
        setattr(handler, ACCESS_ATTR, frozenset(roles))
        return handler
    return mark


def public(handler: H) -> H:
    setattr(handler, ACCESS_ATTR, PUBLIC)
    return handler
