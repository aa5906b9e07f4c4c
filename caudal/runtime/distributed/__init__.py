"""Distributed execution on gRPC: clusters, servers, and the master that runs a Session's plans
across tasks. Nothing here is imported by `import caudal`; grpcio (the `distributed` extra) is
imported only when a server starts or a session connects to one."""
