"""The staff navigation on every page a counselor or an admin opens (base.html): their
day's lists one click away, not back through the centre each time. (route, label) per role;
the current page's link is marked by path."""

from __future__ import annotations

from ..roles import Role

STAFF_NAV: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.COUNSELOR: (
        ("student_records", "学生信息"), ("origin_queue", "生源审核"), ("agreement_queue", "协议书审核"),
        ("registration_queue", "登记审核"), ("termination_queue", "解约审核"),
        ("statistics", "就业统计"), ("exports_mine", "我的导出")),
    Role.SCHOOL_ADMIN: (
        ("student_records", "学生信息"), ("origin_queue", "生源信息"), ("recommendation_queue", "推荐表"),
        ("agreement_queue", "协议书"), ("registration_queue", "就业信息登记"),
        ("termination_queue", "解约"), ("statistics", "就业统计"), ("monitor", "大厅监控"),
        ("audit_log", "操作日志"), ("school_settings_index", "学校设置"), ("exports_mine", "我的导出")),
    Role.PLATFORM_ADMIN: (
        ("student_records", "学生信息"),
        ("admin_employers", "单位审核"), ("admin_jobs", "岗位审核"), ("statistics", "就业统计"),
        ("monitor", "大厅监控"), ("audit_log", "操作日志"), ("outbox", "邮件发件箱"),
        ("sms_outbox", "短信发件箱"), ("school_settings_index", "学校设置"), ("exports_mine", "我的导出")),
}
