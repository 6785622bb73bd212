"""Discovery: WebFinger, host-meta and NodeInfo, the /.well-known documents peers read first."""
