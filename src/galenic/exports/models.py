"""Exports keep no tables of their own: an export is rebuilt from the record each time, and
who exported what is recorded in the audit trail (``services.record_export``)."""
