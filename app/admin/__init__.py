"""Platform administration pages."""
