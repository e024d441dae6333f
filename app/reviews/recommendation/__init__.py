"""推荐表: the student form, the school's review, the printed document with its photo and QR code."""
