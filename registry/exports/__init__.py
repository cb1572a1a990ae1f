"""Auditor exports: what a list shows, as CSV, JSON, JSON Lines or XLSX, with the list's own scoping."""
