"""Test helpers for registry_upload: loopback servers that misbehave on purpose."""
