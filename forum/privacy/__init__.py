"""Data rights (issue 11): erasure and redaction (erasure.py), export of one's data
(export.py), retention of old records (retention.py), privacy and accessibility pages
(pages.py). The tables are in models.py."""
