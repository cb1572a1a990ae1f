"""Personal API tokens on the account pages: list, create (shown once), revoke."""
