"""BackendCertificate under the mock engine: a private CA, a server certificate, one Key Vault secret."""

import base64

import pulumi
import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from components.backend_tls import (
    PEM_CONTENT_TYPE,
    BackendCertificate,
    BackendCertificateArgs,
    certificate_pfx,
    pem_bundle,
    rfc3339_to_epoch,
    validate_backend_certificate_args,
)
from tools.mock_engine import FAKE_CERT_NOT_AFTER, SECRET_PLACEHOLDER, fake_pem

HOST = "greeter.grpc-greeter.svc.cluster.local"


def build(writers: list[pulumi.Resource] | None = None, **overrides) -> BackendCertificate:
    return BackendCertificate(
        "backend-tls",
        BackendCertificateArgs(
            vault_name="kv-grpc-dev-weu-abcde",
            resource_group_name="rg-grpc-dev-weu",
            dns_names=[HOST, "greeter.grpc-greeter.svc"],
            **overrides,
        ),
        opts=pulumi.ResourceOptions(depends_on=writers or []),
    )


@pytest.fixture
def plan(run_mocked):
    def program():
        writer = pulumi.CustomResource("test:index:Writer", "secrets-officer", {})
        component = build([writer])
        pulumi.export("ca", component.ca_certificate_pem)
        pulumi.export("secretName", component.secret_name)

    return run_mocked(program)


def test_ca_and_server_keys_are_ecdsa_p256(plan):
    keys = plan.of_type("tls:index/privateKey:PrivateKey")
    assert sorted(k.name for k in keys) == ["backend-tls-ca-key", "backend-tls-key"]
    for key in keys:
        assert key.inputs == {"algorithm": "ECDSA", "ecdsaCurve": "P256"}


def test_ca_is_a_self_signed_ca_renewed_early(plan):
    ca = plan.one("tls:index/selfSignedCert:SelfSignedCert", "backend-tls-ca")
    assert ca.inputs["isCaCertificate"] is True
    assert ca.inputs["maxPathLength"] == 0
    assert ca.inputs["allowedUses"] == ["cert_signing", "crl_signing"]
    assert ca.inputs["validityPeriodHours"] == 3650 * 24
    assert ca.inputs["earlyRenewalHours"] == 365 * 24
    assert ca.inputs["privateKeyPem"] == SECRET_PLACEHOLDER


def test_server_certificate_names_the_service_and_renews_30_days_early(plan):
    request = plan.one("tls:index/certRequest:CertRequest", "backend-tls-csr")
    assert request.inputs["dnsNames"] == [HOST, "greeter.grpc-greeter.svc"]
    assert request.inputs["subject"]["commonName"] == HOST
    cert = plan.one("tls:index/locallySignedCert:LocallySignedCert", "backend-tls-cert")
    assert cert.inputs["validityPeriodHours"] == 90 * 24
    assert cert.inputs["earlyRenewalHours"] == 30 * 24
    assert cert.inputs["allowedUses"] == ["digital_signature", "server_auth"]
    assert cert.inputs["caPrivateKeyPem"] == SECRET_PLACEHOLDER
    assert cert.inputs["caCertPem"] == fake_pem("backend-tls-ca", "CERTIFICATE")


def test_key_vault_secret_holds_key_and_chain_as_a_secret(plan):
    secret = plan.one("azure-native:keyvault:Secret", "backend-tls-secret")
    assert secret.inputs["secretName"] == "greeter-tls"
    assert secret.inputs["vaultName"] == "kv-grpc-dev-weu-abcde"
    # The engine sees the whole `properties` object as secret because `value` is.
    assert secret.inputs["properties"] == SECRET_PLACEHOLDER
    properties = secret.secret_inputs()["properties"]
    assert properties["contentType"] == PEM_CONTENT_TYPE
    assert properties["attributes"] == {"enabled": True, "expires": rfc3339_to_epoch(FAKE_CERT_NOT_AFTER)}
    assert properties["value"] == (
        fake_pem("backend-tls-key", "PRIVATE KEY")
        + fake_pem("backend-tls-cert", "CERTIFICATE")
        + fake_pem("backend-tls-ca", "CERTIFICATE")
    )


def test_secret_waits_for_the_secrets_officer_assignment(plan):
    secret = plan.one("azure-native:keyvault:Secret", "backend-tls-secret")
    writer = plan.one("test:index:Writer", "secrets-officer")
    assert writer.urn in secret.dependencies


def test_no_private_key_appears_in_plain_text(plan):
    private = [
        fake_pem(n, kind)
        for n in ("backend-tls-key", "backend-tls-ca-key")
        for kind in ("PRIVATE KEY", "EC PRIVATE KEY")
    ]
    for resource in plan.resources:
        text = str(resource.inputs)
        assert not any(p in text for p in private), resource.name
    assert not any(p in str(plan.outputs) for p in private)
    assert plan.outputs["ca"] == fake_pem("backend-tls-ca", "CERTIFICATE")


def test_children_belong_to_the_component(plan):
    component = plan.one("aksgrpc:index:BackendCertificate", "backend-tls")
    children = [r for r in plan.resources if r.name.startswith("backend-tls-")]
    assert len(children) == 6
    assert all(r.parent == component.urn for r in children)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"dns_names": []}, "dns_names"),
        ({"dns_names": ["Greeter.Svc"]}, "dns_names"),
        ({"secret_name": "greeter_tls"}, "secret_name"),
        ({"early_renewal_days": 90}, "early_renewal_days"),
        ({"ca_validity_days": 60}, "ca_validity_days"),
        ({"tags": {"a<b": "x"}}, "tags"),
    ],
)
def test_invalid_args_are_rejected_naming_the_field(change, field):
    args = BackendCertificateArgs(vault_name="kv", resource_group_name="rg", dns_names=[HOST])
    for key, value in change.items():
        setattr(args, key, value)
    with pytest.raises(ValueError, match=field):
        validate_backend_certificate_args(args)


def test_tags_land_on_the_key_vault_secret_only_when_given(run_mocked, plan):
    assert "tags" not in plan.one("azure-native:keyvault:Secret", "backend-tls-secret").inputs
    tagged = run_mocked(lambda: build(tags={"team": "payments"}))
    assert tagged.one("azure-native:keyvault:Secret", "backend-tls-secret").inputs["tags"] == {
        "team": "payments"
    }


def test_pem_bundle_puts_key_first_and_ends_every_block_with_a_newline():
    assert pem_bundle("K", "C\n", "A") == "K\nC\nA\n"


def _real_ca_pem():
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aks-grpc backend CA")])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(datetime.datetime(2026, 1, 1))
        .not_valid_after(datetime.datetime(2036, 1, 1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate, certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_pfx_for_apim_is_read_by_openssl_and_holds_exactly_the_ca():
    certificate, pem = _real_ca_pem()
    loaded = pkcs12.load_pkcs12(base64.b64decode(certificate_pfx(pem)), b"")
    assert loaded.key is None
    assert [c.certificate for c in loaded.additional_certs] == [certificate]


def test_pfx_integrity_mac_rejects_a_wrong_password_and_tampering():
    _, pem = _real_ca_pem()
    pfx = bytearray(base64.b64decode(certificate_pfx(pem)))
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(bytes(pfx), b"wrong")
    pfx[70] ^= 0x01
    with pytest.raises(ValueError):
        pkcs12.load_pkcs12(bytes(pfx), b"")


def test_pfx_is_the_same_run_after_run_so_up_shows_no_diff():
    _, pem = _real_ca_pem()
    assert certificate_pfx(pem) == certificate_pfx(pem)
