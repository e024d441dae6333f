"""Employers: self-registration, platform review, 单位中心."""
