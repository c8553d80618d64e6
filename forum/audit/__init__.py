"""The audit log: every administrator and moderator action (model, `record_audit`, reading,
CSV export and the log pages). Shared machinery: every feature records here; it imports no
feature."""
