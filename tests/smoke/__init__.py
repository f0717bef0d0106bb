"""The installed wheel's smoke suite (`make test-wheel`, in CI): run outside the checkout, never
collected by the main run (tests/conftest.py leaves this folder out)."""
