"""Regenerate the checked-in gRPC stubs in service/generated/ from service/protos/helloworld.proto.

Run from anywhere: ``venv/bin/python service/generate_stubs.py`` (needs grpcio-tools, a dev-only
dependency; the image and the server only need the generated files). protoc emits
``import helloworld_pb2`` (a top-level import that only works with the stub directory on sys.path);
we rewrite it to a package-relative import so ``service.generated`` is an ordinary package.
tests/service/test_stubs.py regenerates into a temp dir and fails if the checked-in copy drifted.
"""

import argparse
import pathlib
import re
import sys

SERVICE_DIR = pathlib.Path(__file__).resolve().parent
PROTO_DIR = SERVICE_DIR / "protos"
PROTO_FILE = "helloworld.proto"
DEFAULT_OUT = SERVICE_DIR / "generated"
_TOP_LEVEL_IMPORT = re.compile(r"^import (\w+_pb2) as (\w+)$", re.MULTILINE)


def generate(out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Run protoc (grpcio-tools) into out_dir and make the imports package-relative."""
    from grpc_tools import protoc  # dev-only dependency, imported lazily

    out_dir.mkdir(parents=True, exist_ok=True)
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_DIR}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        str(PROTO_DIR / PROTO_FILE),
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed: {' '.join(args)}")
    grpc_file = out_dir / "helloworld_pb2_grpc.py"
    grpc_file.write_text(_TOP_LEVEL_IMPORT.sub(r"from . import \1 as \2", grpc_file.read_text()))
    init = out_dir / "__init__.py"
    init.write_text(
        '"""Stubs generated from service/protos/helloworld.proto by service/generate_stubs.py."""\n'
    )
    return sorted(out_dir.glob("*"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    ns = parser.parse_args(argv)
    for path in generate(ns.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
