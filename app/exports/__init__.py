"""导出: every workbook an office asks for, written by a background job with progress."""
