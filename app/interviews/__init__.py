"""视频面试邀请: invitations, the employer's day schedule, 我的面试."""
