"""The aks-grpc CrossGuard policy pack: one module per area, assembled in `policy.policies.ALL_POLICIES`
(`__main__.py` builds the pack from that list)."""
