"""Workflow rules: the only writers. A service takes a session, an Actor and plain values, checks
permission and rule, changes rows, records an audit event, and never commits."""
