"""Test harness helpers (tokenizer, fixtures) shared by the test suites."""
