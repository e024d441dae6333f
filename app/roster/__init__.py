"""学生信息 and 学生档案: the staff's view of their students across every domain (the record,
生源, 推荐表, 协议书, 登记, 去向, interviews, notices, audit), and the filters every
student-shaped staff list shares."""
