"""Health-check service names the server reports, and the Kubernetes probes query.

Pure constants (no grpc import) so the Pulumi program can use them when it renders the probes:
``grpc: {port: <GRPC_PORT>, service: READINESS}``. docs/service.md describes when each flips.
"""

# The gRPC health service itself (grpc.health.v1.Health); its Check/Watch take one of the names below.
HEALTH_SERVICE = "grpc.health.v1.Health"

# The overall server status (the empty name, what `grpc_health_probe` asks by default).
# SERVING once started; NOT_SERVING from the first SIGTERM/SIGINT on.
OVERALL = ""

# livenessProbe: SERVING while the process can answer RPCs; stays SERVING during the drain so a
# liveness probe never kills a pod that is finishing its in-flight RPCs.
LIVENESS = "liveness"

# readinessProbe: SERVING once started; NOT_SERVING from the first SIGTERM/SIGINT on, so the pod
# leaves the Service endpoints before the server stops accepting RPCs.
READINESS = "readiness"

# startupProbe: SERVING once every listener (plaintext, TLS, metrics) is up; never flips back.
STARTUP = "startup"

# The application service, also reported (flips with READINESS), for clients doing per-service checks.
GREETER = "helloworld.Greeter"

ALL_NAMES = (OVERALL, LIVENESS, READINESS, STARTUP, GREETER)
# Names that flip to NOT_SERVING when shutdown starts.
DRAINED_NAMES = (OVERALL, READINESS, GREETER)
