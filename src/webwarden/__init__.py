"""webwarden: an open secure web gateway and the governance portal around it."""

__version__ = "0.1.0"
