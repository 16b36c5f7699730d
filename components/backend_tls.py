"""BackendCertificate: the private CA and server certificate of the gRPC service's TLS port.

API Management requires a gRPC backend reachable over HTTPS (API Management docs: "Import a gRPC
API"). ARM can create Key Vault *secrets* but not certificates (a data-plane object), so the
certificate is issued with pulumi-tls and stored as one Key Vault secret (key + chain in one PEM,
named `naming.backend_tls_secret_name(service)` by default, `greeter-tls`); the workload mounts it through the Key Vault CSI driver and API Management's
self-hosted gateway trusts the CA (`ca_certificate_pem`).

Rotation: `early_renewal_hours` makes `pulumi up` re-issue the server certificate that many hours
before it expires; the new secret version reaches the pod through the CSI driver's rotation poll and
the service reloads its credentials without a restart.
"""

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass, field
from datetime import datetime

import pulumi
import pulumi_tls as tls
from pulumi_azure_native import keyvault

from .common import depends_on_of, resource_tags, validate_tags
from .naming import backend_tls_secret_name

PEM_CONTENT_TYPE = "application/x-pem-file"
DEFAULT_SECRET_NAME = backend_tls_secret_name("greeter")


@dataclass
class BackendCertificateArgs:
    """Inputs of `BackendCertificate`."""

    vault_name: pulumi.Input[str]
    """Key Vault that receives the certificate's secret (`secret_name`)."""
    resource_group_name: pulumi.Input[str]
    """Resource group of the vault."""
    dns_names: list[str] = field(default_factory=list)
    """DNS names of the service's TLS endpoint (first = subject CN; at least one), e.g.
    `greeter.grpc-greeter.svc.cluster.local`."""
    secret_name: str = DEFAULT_SECRET_NAME
    """Key Vault secret name (the CSI `objectName`)."""
    validity_days: int = 90
    """Lifetime of the server certificate."""
    early_renewal_days: int = 30
    """`pulumi up` re-issues the server certificate this many days before it expires."""
    ca_validity_days: int = 3650
    """Lifetime of the private CA."""
    ca_early_renewal_days: int = 365
    """`pulumi up` re-issues the CA (and with it the server certificate) this many days before it expires."""
    organization: str = "aks-grpc"
    """Subject organisation of both certificates."""
    tags: dict[str, str] = field(default_factory=dict)
    """Uniform knob: tags of the Key Vault secret."""


def validate_backend_certificate_args(args: BackendCertificateArgs) -> None:
    """Reject arguments that would produce an unusable certificate, naming the field."""
    if not args.dns_names:
        raise ValueError("dns_names must name at least one DNS name of the service")
    for name in args.dns_names:
        if not re.fullmatch(r"([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?", name):
            raise ValueError(f"dns_names: {name!r} is not a lower-case DNS name")
    if not re.fullmatch(r"[0-9a-zA-Z-]{1,127}", args.secret_name):
        raise ValueError(f"secret_name: {args.secret_name!r} is not a valid Key Vault secret name")
    if not 0 < args.early_renewal_days < args.validity_days:
        raise ValueError("early_renewal_days must be between 0 and validity_days")
    if not 0 < args.ca_early_renewal_days < args.ca_validity_days:
        raise ValueError("ca_early_renewal_days must be between 0 and ca_validity_days")
    if args.ca_validity_days <= args.validity_days:
        raise ValueError("ca_validity_days must exceed validity_days")
    validate_tags(args.tags)


def pem_bundle(private_key_pem: str, certificate_pem: str, ca_certificate_pem: str) -> str:
    """One PEM holding the key, the server certificate and its issuer (TLS_CERT_FILE = TLS_KEY_FILE)."""
    parts = (private_key_pem, certificate_pem, ca_certificate_pem)
    return "".join(part if part.endswith("\n") else part + "\n" for part in parts)


def rfc3339_to_epoch(timestamp: str) -> int:
    """`2026-03-01T12:00:00Z` -> seconds since the epoch (Key Vault `exp` attribute)."""
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp())


# ---------------------------------------------------------------------------------------------------
# PKCS#12 for API Management: `apimanagement.Certificate.data` takes "application/x-pkcs12" only.
# pulumi-tls has no PKCS#12, and PKCS#12 writers salt randomly (a new file every `pulumi up`, i.e. a
# perpetual diff), so this writes the one shape needed here deterministically: a single certificate
# bag (public CA certificate, nothing secret), integrity MAC HMAC-SHA256 with an empty password and a
# salt derived from the certificate (RFC 7292 sections 4, 5 and appendix B).
# ---------------------------------------------------------------------------------------------------

_OID_DATA = "1.2.840.113549.1.7.1"
_OID_CERT_BAG = "1.2.840.113549.1.12.10.1.3"
_OID_X509_CERTIFICATE = "1.2.840.113549.1.9.22.1"
_OID_SHA256 = "2.16.840.1.101.3.4.2.1"
PFX_MAC_ITERATIONS = 2048


def _der(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(encoded)]) + encoded + content


def _sequence(*items: bytes) -> bytes:
    return _der(0x30, b"".join(items))


def _explicit0(content: bytes) -> bytes:
    return _der(0xA0, content)


def _octets(content: bytes) -> bytes:
    return _der(0x04, content)


def _integer(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _oid(dotted: str) -> bytes:
    numbers = [int(n) for n in dotted.split(".")]
    body = bytearray([40 * numbers[0] + numbers[1]])
    for number in numbers[2:]:
        chunk = [number & 0x7F]
        number >>= 7
        while number:
            chunk.append(0x80 | (number & 0x7F))
            number >>= 7
        body.extend(reversed(chunk))
    return _der(0x06, bytes(body))


def _repeat_to_blocks(data: bytes, v: int) -> bytes:
    """`data` repeated to the next multiple of `v` bytes (empty stays empty)."""
    if not data:
        return b""
    size = v * ((len(data) + v - 1) // v)
    return (data * (size // len(data) + 1))[:size]


def _pkcs12_kdf(password: str, salt: bytes, purpose: int, iterations: int, size: int = 32) -> bytes:
    """RFC 7292 appendix B.2 with SHA-256 (u = 32, v = 64); the password as a NUL-terminated BMPString."""
    v = 64  # SHA-256: u = 32 output bytes, v = 64 block bytes
    secret = password.encode("utf-16-be") + b"\x00\x00"
    block = _repeat_to_blocks(salt, v) + _repeat_to_blocks(secret, v)
    result = b""
    while len(result) < size:
        digest = bytes([purpose]) * v + block
        for _ in range(iterations):
            digest = hashlib.sha256(digest).digest()
        result += digest
        increment = int.from_bytes(_repeat_to_blocks(digest, v), "big") + 1
        block = b"".join(
            ((int.from_bytes(block[i : i + v], "big") + increment) % (1 << (8 * v))).to_bytes(v, "big")
            for i in range(0, len(block), v)
        )
    return result[:size]


def pem_to_der(pem: str) -> bytes:
    """The DER bytes of the first PEM block."""
    match = re.search(r"-----BEGIN [A-Z ]+-----(.*?)-----END [A-Z ]+-----", pem, re.DOTALL)
    if match is None:
        raise ValueError("not a PEM document")
    return base64.b64decode("".join(match.group(1).split()))


def certificate_pfx(certificate_pem: str) -> str:
    """Base64 PKCS#12 (empty password) holding just `certificate_pem`; same input, same bytes."""
    certificate = pem_to_der(certificate_pem)
    cert_bag = _sequence(_oid(_OID_X509_CERTIFICATE), _explicit0(_octets(certificate)))
    safe_contents = _sequence(_sequence(_oid(_OID_CERT_BAG), _explicit0(cert_bag)))
    authenticated_safe = _sequence(_sequence(_oid(_OID_DATA), _explicit0(_octets(safe_contents))))
    salt = hashlib.sha256(b"aks-grpc-pfx-salt" + certificate).digest()[:16]
    key = _pkcs12_kdf("", salt, purpose=3, iterations=PFX_MAC_ITERATIONS)
    mac = hmac.new(key, authenticated_safe, hashlib.sha256).digest()
    mac_data = _sequence(
        _sequence(_sequence(_oid(_OID_SHA256), b"\x05\x00"), _octets(mac)),
        _octets(salt),
        _integer(PFX_MAC_ITERATIONS),
    )
    pfx = _sequence(
        _integer(3), _sequence(_oid(_OID_DATA), _explicit0(_octets(authenticated_safe))), mac_data
    )
    return base64.b64encode(pfx).decode()


# ---------------------------------------------------------------------------------------------------
# The component
# ---------------------------------------------------------------------------------------------------


class BackendCertificate(pulumi.ComponentResource):
    """Private CA (ECDSA P-256) + server certificate for the service, stored as a Key Vault secret.

    What the secret write must follow (e.g. `SecretStore.secret_writers_ready`) goes in `opts.depends_on`.
    """

    secret_name: str
    """Key Vault secret holding key + server certificate + CA certificate (PEM)."""
    ca_certificate_pem: pulumi.Output[str]
    """The private CA certificate the API gateway trusts (public)."""
    certificate_pem: pulumi.Output[str]
    """The server certificate (public)."""
    expires_at: pulumi.Output[str]
    """RFC 3339 expiry of the server certificate."""

    def __init__(
        self, name: str, args: BackendCertificateArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("aksgrpc:index:BackendCertificate", name, None, opts)
        validate_backend_certificate_args(args)
        child = pulumi.ResourceOptions(parent=self)
        subject_org = args.organization

        ca_key = tls.PrivateKey(
            f"{name}-ca-key", tls.PrivateKeyArgs(algorithm="ECDSA", ecdsa_curve="P256"), opts=child
        )
        ca = tls.SelfSignedCert(
            f"{name}-ca",
            tls.SelfSignedCertArgs(
                private_key_pem=ca_key.private_key_pem,
                is_ca_certificate=True,
                max_path_length=0,
                set_subject_key_id=True,
                subject=tls.SelfSignedCertSubjectArgs(
                    common_name=f"{subject_org} backend CA", organization=subject_org
                ),
                validity_period_hours=args.ca_validity_days * 24,
                early_renewal_hours=args.ca_early_renewal_days * 24,
                allowed_uses=["cert_signing", "crl_signing"],
            ),
            opts=child,
        )
        server_key = tls.PrivateKey(
            f"{name}-key", tls.PrivateKeyArgs(algorithm="ECDSA", ecdsa_curve="P256"), opts=child
        )
        request = tls.CertRequest(
            f"{name}-csr",
            tls.CertRequestArgs(
                private_key_pem=server_key.private_key_pem,
                dns_names=list(args.dns_names),
                subject=tls.CertRequestSubjectArgs(common_name=args.dns_names[0], organization=subject_org),
            ),
            opts=child,
        )
        certificate = tls.LocallySignedCert(
            f"{name}-cert",
            tls.LocallySignedCertArgs(
                cert_request_pem=request.cert_request_pem,
                ca_private_key_pem=ca_key.private_key_pem,
                ca_cert_pem=ca.cert_pem,
                set_subject_key_id=True,
                validity_period_hours=args.validity_days * 24,
                early_renewal_hours=args.early_renewal_days * 24,
                # ECDSA keys sign; they never encipher keys.
                allowed_uses=["digital_signature", "server_auth"],
            ),
            opts=child,
        )
        bundle = pulumi.Output.all(server_key.private_key_pem_pkcs8, certificate.cert_pem, ca.cert_pem).apply(
            lambda parts: pem_bundle(parts[0], parts[1], parts[2])
        )
        self.secret = keyvault.Secret(
            f"{name}-secret",
            keyvault.SecretArgs(
                secret_name=args.secret_name,
                vault_name=args.vault_name,
                resource_group_name=args.resource_group_name,
                properties=keyvault.SecretPropertiesArgs(
                    value=pulumi.Output.secret(bundle),
                    content_type=PEM_CONTENT_TYPE,
                    attributes=keyvault.SecretAttributesArgs(
                        enabled=True, expires=certificate.validity_end_time.apply(rfc3339_to_epoch)
                    ),
                ),
                tags=resource_tags(args.tags),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on_of(opts)),
        )
        self.secret_name = args.secret_name
        self.ca_certificate_pem = ca.cert_pem
        self.certificate_pem = certificate.cert_pem
        self.expires_at = certificate.validity_end_time
        self.register_outputs(
            {
                "secretName": self.secret_name,
                "caCertificatePem": self.ca_certificate_pem,
                "expiresAt": self.expires_at,
            }
        )
