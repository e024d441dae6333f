"""简历管理: 中文简历, 英文简历 (structured) and 附件简历 (uploaded files)."""
