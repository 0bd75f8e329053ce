"""The only code that talks to Docker, Compose, hadolint and dive.

Checks never import from here: they read the facts these functions return.
"""
