"""Text messages: the SMS outbox, its worker and pluggable gateway, and 短信发件箱."""
