"""Email outbox and in-site notices."""
