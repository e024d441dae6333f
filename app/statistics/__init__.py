"""就业统计: 就业率 and 落实率 by breakdown, the weekly trend, and the .xlsx exports."""
