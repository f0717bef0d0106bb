"""The docs' examples (docs/how-to/pytest.md, the tutorial), run as tests; `options/` is a project of
its own (a conftest overriding the options), run through pytester by tests/test_docs_pytest_page.py."""

collect_ignore = ["options"]
