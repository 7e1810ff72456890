"""Client certificates and private CAs reach the Kafka and Temporal clients."""

from __future__ import annotations

import datetime
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from slrt.kafka import client_options
from slrt.settings import ConnectionSettings
from slrt.temporal import _tls

pytestmark = pytest.mark.unit


def _certificate(directory: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / f"{name}.crt", directory / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_kafka_mtls_loads_the_client_certificate(tmp_path: Path) -> None:
    ca, _ = _certificate(tmp_path, "ca")
    cert, key = _certificate(tmp_path, "slrt")
    options = client_options(
        ConnectionSettings(
            kafka_security_protocol="SSL",
            kafka_ssl_cafile=str(ca),
            kafka_ssl_certfile=str(cert),
            kafka_ssl_keyfile=str(key),
        )
    )
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert [c["subject"] for c in context.get_ca_certs()] == [((("commonName", "ca"),),)]
    # A key that does not match the certificate is refused when the client is built.
    _, other_key = _certificate(tmp_path, "other")
    with pytest.raises(ssl.SSLError):
        client_options(
            ConnectionSettings(
                kafka_security_protocol="SSL",
                kafka_ssl_certfile=str(cert),
                kafka_ssl_keyfile=str(other_key),
            )
        )


def test_temporal_tls_with_a_private_ca(tmp_path: Path) -> None:
    ca, _ = _certificate(tmp_path, "ca")
    cert, key = _certificate(tmp_path, "client")
    mtls = _tls(
        ConnectionSettings(
            temporal_tls_cert=str(cert), temporal_tls_key=str(key), temporal_tls_ca=str(ca)
        )
    )
    assert not isinstance(mtls, bool)
    assert mtls.server_root_ca_cert == ca.read_bytes()
    assert mtls.client_cert == cert.read_bytes()
    # Server TLS only (no client certificate), verified against the private CA.
    ca_only = _tls(ConnectionSettings(temporal_tls_ca=str(ca)))
    assert not isinstance(ca_only, bool)
    assert ca_only.client_cert is None
    assert ca_only.server_root_ca_cert == ca.read_bytes()
    assert _tls(ConnectionSettings()) is False
