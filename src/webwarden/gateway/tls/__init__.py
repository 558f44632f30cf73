"""Interception TLS: the gateway's certificate authority, the leaf certificates it mints
for sites, and the verification of upstream certificates."""
