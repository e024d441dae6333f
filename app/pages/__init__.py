"""Pages every role shares: home, health, the role centres (学生中心, 单位中心, 管理中心 …)
and 站内通知; the template context every page gets."""
