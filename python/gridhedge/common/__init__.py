"""Shared types (value objects, enums) and the interfaces users implement to inject components."""
