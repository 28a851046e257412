"""The Python (grpcio) peer of the interop matrix: server, client and their shared pieces."""
