"""大厅监控: live monitor pages, admin actions on the hall, hall reports."""
