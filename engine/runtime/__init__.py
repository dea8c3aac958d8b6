"""One process instance's step: the SpiffWorkflow boundary, deployed process models and their
definitions, starting/locking/advancing instances, and what a step writes (task rows, outbox
messages, timer rows) in the caller's transaction.
"""
