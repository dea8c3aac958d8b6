"""What drives steps from outside a request: firing due timers, delivering outbox messages,
scanning deadlines and sending mail (`liandong worker`, engine/worker/passes.py).
"""
