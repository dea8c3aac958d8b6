"""The domain rules of individual mechanisms that a diagram cannot express, run as task hooks
(engine/mechanisms/hooks.py joins every mechanism's table of hooks and form choice sources).
"""
