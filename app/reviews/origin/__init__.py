"""生源信息核对: the student form, the review queue and the school's import of 生源信息."""
