"""E-mail with login over STARTTLS and over SSL, against aiosmtpd with a self-signed certificate."""

from __future__ import annotations

import datetime as dt
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from response_ledger.errors import DeliveryError
from response_ledger.notify import SmtpChannel, router_from_settings
from response_ledger.reminders import Level, Notice
from yuqing.settings import Settings

USER, PASSWORD = "yuqing@example.org", "s3cret-Pa55"
NOTICE = Notice("T1", "区生态环境分局", Level.OVERDUE, (), "舆情回应台账超期提醒", "工单 T1 已超期")


@dataclass
class Inbox:
    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = BytesParser(policy=email.policy.default).parsebytes(envelope.original_content)
        self.messages.append((str(session.auth_data), list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            USER.encode(),
            PASSWORD.encode(),
        )
        if ok:
            self.logins.append(mechanism)
        # handled=False: aiosmtpd answers a refusal with 535 itself (True would mean "already answered").
        return AuthResult(success=ok, handled=False, auth_data=USER if ok else None)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made here with ``cryptography``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_file, key_file


def _free_port() -> int:
    # aiosmtpd's start() checks its own port by connecting to it, so it needs a real number.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    return context


def _client_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    """Trusts the test's certificate only, with the usual hostname check."""
    return ssl.create_default_context(cafile=str(certificate[0]))


@pytest.fixture
def starttls_server(certificate: tuple[Path, Path]) -> Iterator[tuple[int, Inbox]]:
    inbox, port = Inbox(), _free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=_server_context(certificate),
        require_starttls=True, authenticator=inbox.authenticate, auth_require_tls=True,
    )  # fmt: skip
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def ssl_server(certificate: tuple[Path, Path]) -> Iterator[tuple[int, Inbox]]:
    inbox, port = Inbox(), _free_port()
    # Implicit TLS: the whole session is encrypted, so AUTH is safe although no STARTTLS was issued
    # (aiosmtpd's auth_require_tls only knows STARTTLS; it is off here for that reason alone).
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, ssl_context=_server_context(certificate),
        authenticator=inbox.authenticate, auth_require_tls=False,
    )  # fmt: skip
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def test_a_reminder_is_sent_with_login_after_starttls(
    starttls_server: tuple[int, Inbox], certificate: tuple[Path, Path]
) -> None:
    port, inbox = starttls_server
    channel = SmtpChannel(
        "127.0.0.1", port, USER, username=USER, password=PASSWORD, security="starttls",
        tls_context=_client_context(certificate),
    )  # fmt: skip
    channel.deliver("staff@example.org", NOTICE)
    [(login, recipients, message)] = inbox.messages
    assert login == USER and recipients == ["staff@example.org"] and inbox.logins
    assert message["Subject"] == "舆情回应台账超期提醒" and "已超期" in message.get_content()


def test_the_briefing_is_attached_over_ssl_with_login(
    ssl_server: tuple[int, Inbox], certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    port, inbox = ssl_server
    docx = tmp_path / "舆情日报-2026-09-22.docx"
    docx.write_bytes(b"PK\x03\x04 a word file")
    channel = SmtpChannel(
        "127.0.0.1", port, USER, username=USER, password=PASSWORD, security="ssl",
        tls_context=_client_context(certificate),
    )  # fmt: skip
    channel.deliver("leader@example.org", Notice(**{**NOTICE.__dict__, "attachment": docx}))
    [(login, _, message)] = inbox.messages
    [attached] = list(message.iter_attachments())
    assert login == USER and attached.get_filename() == docx.name
    assert attached.get_content() == b"PK\x03\x04 a word file"


def test_a_wrong_password_is_a_final_delivery_error_that_does_not_show_the_password(
    starttls_server: tuple[int, Inbox], certificate: tuple[Path, Path]
) -> None:
    port, inbox = starttls_server
    channel = SmtpChannel(
        "127.0.0.1", port, USER, username=USER, password="wrong-Pa55", security="starttls",
        tls_context=_client_context(certificate),
    )  # fmt: skip
    with pytest.raises(DeliveryError) as caught:
        channel.deliver("staff@example.org", NOTICE)
    assert caught.value.channel == "smtp" and not caught.value.transient
    assert "535" in caught.value.reason and "wrong-Pa55" not in str(caught.value)
    assert "wrong-Pa55" not in repr(channel) and inbox.messages == []


def test_an_untrusted_certificate_is_refused(starttls_server: tuple[int, Inbox]) -> None:
    port, _ = starttls_server
    channel = SmtpChannel("127.0.0.1", port, USER, username=USER, password=PASSWORD, security="starttls")
    with pytest.raises(DeliveryError) as caught:
        channel.deliver("staff@example.org", NOTICE)
    assert "TLS" in caught.value.reason and not caught.value.transient


def test_the_router_is_built_from_the_smtp_settings_which_never_show_the_password(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {
            "YUQING_HOME": str(tmp_path),
            "YUQING_SMTP_HOST": "mail.example.gov.cn",
            "YUQING_SMTP_SECURITY": "ssl",
            "YUQING_SMTP_USERNAME": USER,
            "YUQING_SMTP_PASSWORD": PASSWORD,
            "YUQING_DINGTALK_SECRETS": "tok=SECabc",
        }
    )
    assert PASSWORD not in repr(settings) and "SECabc" not in repr(settings)
    router = router_from_settings(settings)
    smtp = router.channels["mailto"]
    assert isinstance(smtp, SmtpChannel)
    assert (smtp.host, smtp.port, smtp.security, smtp.username) == ("mail.example.gov.cn", 465, "ssl", USER)
    assert router.attempts == 3
