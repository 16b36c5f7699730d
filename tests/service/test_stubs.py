"""The checked-in stubs are exactly what grpcio-tools generates from the checked-in proto."""

from __future__ import annotations

import sys
from pathlib import Path

from service_harness import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "service"))
import generate_stubs


def test_checked_in_stubs_match_a_fresh_generation(tmp_path: Path) -> None:
    generated = generate_stubs.generate(tmp_path)
    checked_in = REPO_ROOT / "service" / "generated"
    assert sorted(p.name for p in generated) == sorted(
        p.name for p in checked_in.iterdir() if p.is_file() and p.suffix in (".py", ".pyi")
    )
    for fresh in generated:
        assert fresh.read_text() == (checked_in / fresh.name).read_text(), (
            f"service/generated/{fresh.name} is stale: run `venv/bin/python service/generate_stubs.py`"
        )


def test_stubs_describe_the_canonical_helloworld_greeter() -> None:
    from service.generated import helloworld_pb2

    service = helloworld_pb2.DESCRIPTOR.services_by_name["Greeter"]
    assert service.full_name == "helloworld.Greeter"
    assert {m.name: (m.input_type.full_name, m.output_type.full_name) for m in service.methods} == {
        "SayHello": ("helloworld.HelloRequest", "helloworld.HelloReply"),
        "SayHelloStreamReply": ("helloworld.HelloRequest", "helloworld.HelloReply"),
    }
    for message in ("HelloRequest", "HelloReply"):
        (field,) = helloworld_pb2.DESCRIPTOR.message_types_by_name[message].fields
        assert (field.number, field.type) == (1, field.TYPE_STRING)
    assert list(helloworld_pb2.DESCRIPTOR.dependencies) == []
