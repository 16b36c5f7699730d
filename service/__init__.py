"""Reference gRPC workload: helloworld.Greeter with health, reflection, metrics, tracing and TLS.

Run with ``python -m service`` from the repository root; configuration is by environment variables
(docs/service.md has the reference table).
"""
