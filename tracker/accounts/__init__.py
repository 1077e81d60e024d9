"""Reviewers' accounts for the web app: passwords, sessions, sign-in throttling, the secret key.

The tables live in `tracker.accounts.models` (registered with the shared metadata by
`tracker.models`); the operations in the sibling modules take a session first and never
commit, like every service.
"""
