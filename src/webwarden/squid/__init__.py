"""webwarden's policy engine behind Squid: the URL-rewrite helper protocol, so Squid can
carry the bytes while webwarden decides (a drop-in for squidGuard's place in squid.conf)."""
