"""webwarden.gateway."""
