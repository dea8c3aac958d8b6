"""Time: the injectable clock, the business calendar (working days, official holidays, the
administrator's entered days) and how a task's or timer's due time is counted.
"""
