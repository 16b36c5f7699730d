"""Stubs generated from service/protos/helloworld.proto by service/generate_stubs.py."""
