"""The read side: inbox and case-page queries filtered by the access policy, supervision of
overdue work, metrics and exports for supervisors, and notifications (in-app and mail).
"""
