"""The service's one interceptor: no per-call work on grpcio's polling thread beyond a lookup."""

from __future__ import annotations

from typing import NamedTuple

import grpc
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry

from service.drain import DrainGate
from service.interceptor import ServiceInterceptor
from service.metrics import ServerMetrics
from service.tracing import PresetTraceIds, SamplingDecision, root_sampler

SAY_HELLO = "/helloworld.Greeter/SayHello"
HEALTH_CHECK = "/grpc.health.v1.Health/Check"


class _Details(NamedTuple):
    method: str
    invocation_metadata: tuple[tuple[str, str], ...] = ()


def _interceptor(gate: DrainGate) -> ServiceInterceptor:
    provider = TracerProvider(sampler=root_sampler(0.01), id_generator=PresetTraceIds())
    return ServiceInterceptor(gate, ServerMetrics(CollectorRegistry()), SamplingDecision(provider, 0.01))


def _registered() -> grpc.RpcMethodHandler:
    return grpc.unary_unary_rpc_method_handler(lambda request, context: request)


def test_every_call_to_a_method_gets_the_handler_built_once_for_it() -> None:
    interceptor = _interceptor(DrainGate())
    registered = _registered()
    first = interceptor.intercept_service(lambda _: registered, _Details(SAY_HELLO))
    second = interceptor.intercept_service(lambda _: registered, _Details(SAY_HELLO))
    assert first is second
    assert first is not registered  # wrapped: metrics and the sampling decision


def test_draining_refuses_with_a_prebuilt_refusal_but_still_answers_health() -> None:
    gate = DrainGate()
    interceptor = _interceptor(gate)
    greeter, health = _registered(), _registered()
    serving = interceptor.intercept_service(lambda _: greeter, _Details(SAY_HELLO))
    probe = interceptor.intercept_service(lambda _: health, _Details(HEALTH_CHECK))
    gate.refuse_new_calls()
    refusals = [interceptor.intercept_service(lambda _: greeter, _Details(SAY_HELLO)) for _ in range(2)]
    assert refusals[0] is refusals[1] is not serving
    assert interceptor.intercept_service(lambda _: health, _Details(HEALTH_CHECK)) is probe
    assert gate.refused == 2


def test_an_unknown_method_is_left_to_grpc() -> None:
    assert _interceptor(DrainGate()).intercept_service(lambda _: None, _Details("/x.Y/Z")) is None
