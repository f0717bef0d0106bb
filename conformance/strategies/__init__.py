"""Hypothesis strategies for both APIs (`streamster`, `instaforex`): data only, no emulator code,
so they serve the conformance machines and anyone's own property tests alike."""
