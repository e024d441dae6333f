"""洽谈面试大厅 pages: the student's waiting room and call, the employer's interview room."""
