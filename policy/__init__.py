"""The aks-grpc CrossGuard policy pack (policies in `policy.policies`; `__main__.py` builds the pack)."""
