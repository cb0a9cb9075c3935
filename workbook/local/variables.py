"""The variables the embedded server reads: its key, and extra scoped keys for tests."""

KEY_ENV = "WORKBOOK_LOCAL_KEY"
EXTRA_KEYS_ENV = "WORKBOOK_LOCAL_EXTRA_KEYS"
