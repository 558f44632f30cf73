"""webwarden.identity."""
