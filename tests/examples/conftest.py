"""The README's examples ("Testing your bot with pytest"), run as tests; `options/` is a project of
its own (a conftest overriding the options), run through pytester by tests/test_readme_examples.py."""

collect_ignore = ["options"]
