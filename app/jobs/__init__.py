"""Jobs: posting, platform review, public browsing and search."""
