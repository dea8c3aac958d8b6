"""Who may do what (`policy`, the one place access is decided), the hash-chained audit trail,
user accounts, API tokens and a user's own preferences.
"""
