"""Working a case: opening cases and starting mechanisms, human-task actions (claim, complete,
reassign...), comments, generated legal documents, evidence items, their files and custody.
"""
