"""Per-school settings a school admin controls (online signing, windows, deadlines)."""
