"""webwarden.policy."""
