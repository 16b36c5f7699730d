"""The stack program's own side: stack settings, and the adapters that turn them into component Args.

`components/` (imported as `aks_grpc` when installed) is the library and never imports this package.
"""
