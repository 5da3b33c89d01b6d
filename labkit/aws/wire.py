"""What a bearer token looks like on the wire: a recording relay, and TLS for the local API.

"Always use HTTPS" is the source article's first best practice. To show it
rather than say it, ``Wiretap`` sits between a client and the local API on
127.0.0.1, forwards every byte both ways and keeps a copy of what the client
sent, as anyone on the network path could. Over plain HTTP the copy holds the
``Authorization: Bearer ...`` header in clear text, ready to replay; with
``serve(tls=True)`` it holds only TLS records.

``demo_certificate`` makes the self-signed certificate for ``serve(tls=True)``:
for 127.0.0.1 only, valid for one day, signed with the kit's DEMO ONLY P-256
key. Clients trust it explicitly (``requests.get(..., verify=api.certificate)``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import threading
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from labkit import keys
from labkit.errors import ConfigurationError

__all__ = ["Wiretap", "demo_certificate", "server_context"]

_CHUNK = 65536


class Wiretap:
    """A TCP relay on 127.0.0.1 to a loopback ``target`` URL; records what clients send.

    Use ``url`` in place of the target's URL. ``captured`` is every byte
    clients sent through the relay, in order.
    """

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        if parts.hostname is None or parts.port is None:
            raise ConfigurationError(f"the wiretap needs a URL with host and port, got {target!r}")
        if not ipaddress.ip_address(parts.hostname).is_loopback:
            raise ConfigurationError("the wiretap relays to loopback addresses only")
        self._target = (parts.hostname, parts.port)
        self._scheme = parts.scheme
        self._captured = bytearray()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._running = True
        self._thread = threading.Thread(target=self._accept, name="labkit-wiretap", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The relay's URL: the target's scheme, 127.0.0.1 and the relay's port."""
        return f"{self._scheme}://127.0.0.1:{self._listener.getsockname()[1]}"

    @property
    def captured(self) -> bytes:
        """Everything clients sent through the relay so far."""
        with self._lock:
            return bytes(self._captured)

    def close(self) -> None:
        """Stop relaying and free the port."""
        self._running = False
        self._thread.join(timeout=5)
        self._listener.close()

    def __enter__(self) -> Wiretap:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _accept(self) -> None:
        while self._running:
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=10)
            except OSError:
                client.close()
                continue
            for source, sink, record in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(
                    target=self._pump, args=(source, sink, record), daemon=True
                ).start()

    def _pump(self, source: socket.socket, sink: socket.socket, record: bool) -> None:
        try:
            while data := source.recv(_CHUNK):
                if record:
                    with self._lock:
                        self._captured += data
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()


def demo_certificate(directory: str | Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1 and its DEMO ONLY key; their paths."""
    key = keys.demo_private_key("p256")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1 (labkit DEMO ONLY)")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())  # type: ignore[union-attr]
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())  # type: ignore[arg-type]
    )
    folder = Path(directory)
    cert_path, key_path = folder / "demo-tls-cert.pem", folder / "demo-tls-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(  # type: ignore[union-attr]
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def server_context(cert_path: Path, key_path: Path) -> ssl.SSLContext:
    """A TLS 1.2+ server context for the demo certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_path, key_path)
    return context
