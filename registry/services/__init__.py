"""Every change to data goes through a function in this package.

Each function checks the permission and the workflow, changes the data, writes the audit entry
and queues notifications in the caller's transaction; it never commits. The caller (a route,
a CLI command, the API, a bulk action looping over it) commits once.
"""
