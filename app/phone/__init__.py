"""8.1 手机认证: the student confirms the mobile number of their approved 生源信息 by SMS code."""
