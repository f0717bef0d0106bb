"""Infrastructure shared by the two emulators: clock, journal, fault plans, WSGI server, peers.

Neither emulator's business rules live here; only the plumbing both need in the same shape.
"""
