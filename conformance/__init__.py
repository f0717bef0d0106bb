"""Conformance state machines: drive a client against an emulator and check every step against
an independent model of the API, written from the contracts (it imports no emulator code and
talks to the emulators' control planes over HTTP only).

Use them on the reference client, or on your own client through a small adapter: see README.
"""
