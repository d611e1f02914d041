"""Accord — an open-source CRM for B2B sales organisations."""

__version__ = "0.1.0"
