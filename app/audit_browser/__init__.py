"""操作日志: school and platform admins browse the audit rows of their scope."""
