"""Shared foundations: time, database types, permissions, errors, forms. Imports no domain."""
