"""Review workflows: 生源信息核对 (origin records) and 推荐表 (recommendation forms)."""
