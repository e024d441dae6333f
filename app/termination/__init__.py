"""解约中心: terminating an effective 就业协议书 by application (9.1) or by an administrator (9.2)."""
