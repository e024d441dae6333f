"""Imported student records (学籍) and their import from csv/xlsx."""
