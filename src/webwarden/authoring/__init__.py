"""Tools for policy authors: decision tables (`policy test`) over policy and directory."""
