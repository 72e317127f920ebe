"""The sandbox's signing material, made once per data directory and kept there.

Apple: an EC P-256 chain root -> intermediate -> leaf carrying Apple's extension OIDs, so
Apple's own verifier accepts what the leaf signs once the root is trusted. Google: an RSA
key with a self-signed certificate, served in Google's ``{key id: certificate}`` layout for
verifying the OIDC tokens of Pub/Sub pushes.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

APPLE_LEAF_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.11.1")
APPLE_INTERMEDIATE_OID = x509.ObjectIdentifier("1.2.840.113635.100.6.2.1")
VALID_FROM = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
VALID_UNTIL = datetime.datetime(2045, 1, 1, tzinfo=datetime.UTC)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Masthead App Store Sandbox"),
        ]
    )


def _certificate(
    *,
    subject: str,
    key: ec.EllipticCurvePrivateKey,
    issuer: str,
    issuer_key: ec.EllipticCurvePrivateKey,
    ca: bool,
    path_length: int | None = None,
    apple_oid: x509.ObjectIdentifier | None = None,
) -> x509.Certificate:
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(VALID_FROM)
        .not_valid_after(VALID_UNTIL)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    )
    if apple_oid is not None:
        builder = builder.add_extension(
            x509.UnrecognizedExtension(apple_oid, b"\x05\x00"), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class AppleChain:
    """The chain Apple would sign with: ``x5c`` (leaf, intermediate, root) and the leaf key."""

    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: ec.EllipticCurvePrivateKey

    def x5c(self) -> list[str]:
        return [
            base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
            for cert in (self.leaf, self.intermediate, self.root)
        ]

    def leaf_key_pem(self) -> bytes:
        return self.leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def apple_chain_make() -> tuple[AppleChain, list[ec.EllipticCurvePrivateKey]]:
    """Make a fresh chain; return it and the three keys (root, intermediate, leaf)."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    mid_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    root = _certificate(
        subject="Sandbox Root CA",
        key=root_key,
        issuer="Sandbox Root CA",
        issuer_key=root_key,
        ca=True,
    )
    mid = _certificate(
        subject="Sandbox Worldwide Developer Relations",
        key=mid_key,
        issuer="Sandbox Root CA",
        issuer_key=root_key,
        ca=True,
        path_length=0,
        apple_oid=APPLE_INTERMEDIATE_OID,
    )
    leaf = _certificate(
        subject="Sandbox App Store Signing",
        key=leaf_key,
        issuer="Sandbox Worldwide Developer Relations",
        issuer_key=mid_key,
        ca=False,
        apple_oid=APPLE_LEAF_OID,
    )
    return AppleChain(root, mid, leaf, leaf_key), [root_key, mid_key, leaf_key]


def _pem_key(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def apple_chain_load(data_dir: Path) -> AppleChain:
    """Load the data directory's chain, making it the first time. ``apple_root.der`` is the
    file Masthead trusts (``APPLE_ROOT_CERTIFICATES``)."""
    folder = data_dir / "apple"
    names = ("root", "intermediate", "leaf")
    if not (folder / "leaf.key").exists():
        folder.mkdir(parents=True, exist_ok=True)
        chain, keys = apple_chain_make()
        for name, cert, key in zip(
            names, (chain.root, chain.intermediate, chain.leaf), keys, strict=False
        ):
            (folder / f"{name}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
            (folder / f"{name}.key").write_bytes(_pem_key(key))
        (data_dir / "apple_root.der").write_bytes(
            chain.root.public_bytes(serialization.Encoding.DER)
        )
    certs = [x509.load_pem_x509_certificate((folder / f"{n}.pem").read_bytes()) for n in names]
    leaf_key = serialization.load_pem_private_key((folder / "leaf.key").read_bytes(), None)
    assert isinstance(leaf_key, ec.EllipticCurvePrivateKey)
    return AppleChain(certs[0], certs[1], certs[2], leaf_key)


@dataclass(frozen=True)
class GoogleSigner:
    """The key Google signs Pub/Sub push tokens with, and its certificate."""

    key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def key_id(self) -> str:
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return hashlib.sha256(der).hexdigest()[:40]

    def key_pem(self) -> bytes:
        return _pem_key(self.key)

    def certs(self) -> dict[str, str]:
        """Google's ``oauth2/v1/certs`` layout: key id -> PEM certificate."""
        return {self.key_id: self.certificate.public_bytes(serialization.Encoding.PEM).decode()}


def google_signer_load(data_dir: Path) -> GoogleSigner:
    """Load the data directory's RSA key and certificate, making them the first time."""
    folder = data_dir / "google"
    if not (folder / "push.key").exists():
        folder.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = _name("Sandbox Google OAuth2")
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(VALID_FROM)
            .not_valid_after(VALID_UNTIL)
            .sign(key, hashes.SHA256())
        )
        (folder / "push.key").write_bytes(_pem_key(key))
        (folder / "push.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    loaded = serialization.load_pem_private_key((folder / "push.key").read_bytes(), None)
    assert isinstance(loaded, rsa.RSAPrivateKey)
    cert = x509.load_pem_x509_certificate((folder / "push.pem").read_bytes())
    return GoogleSigner(loaded, cert)
