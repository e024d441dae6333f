"""Accounts: activation, login, sessions and password recovery."""
