"""The notifier's stand-ins for the outside world (LAPOR!, SIKS-NG, the SMS gateway, the SMTP
relay, a program manager's webhook receiver) as parts of the local stack, on the ports of
:class:`~slrt_dev.stack.config.StackSettings` (``SLRT_STACK_LAPOR_PORT`` …), which the services
of the same stack are pointed at. Local stack only: production talks to the real ones."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from slrt_dev.stack.config import REPO_ROOT, STANDINS, StackSettings
from slrt_dev.stack.process import ManagedProcess, port_in_use
from slrt_dev.stack.secrets import webhook_secret_file


class StandinProcess(ManagedProcess):
    start_timeout = 30.0
    stop_timeout = 10.0

    def __init__(self, name: str, stack: StackSettings) -> None:
        port = stack.standin_port(name)
        ports = {f"SLRT_STACK_{name.upper()}_PORT": port}
        if name == "smtp_sink":
            ports["SLRT_STACK_SMTP_SINK_HTTP_PORT"] = stack.smtp_sink_http_port
        super().__init__(f"standin-{name}", stack.data_dir, ports)
        self.module = name
        self.cwd = REPO_ROOT
        self.env = {"PYTHONUNBUFFERED": "1"}
        self.args: list[str] = {
            "smtp_sink": [
                "--folder",
                str(stack.data_dir / "mail"),
                "--http-port",
                str(stack.smtp_sink_http_port),
            ],
            # LAPOR! keeps its reports: the notifier's tracking ids outlive a restart.
            "lapor": ["--state-file", str(stack.data_dir / "standins" / "lapor.json")],
            # SIKS-NG keeps its submissions: the notifier polls their verdicts across restarts.
            "siks_ng": ["--state-file", str(stack.data_dir / "standins" / "siks_ng.json")],
            # The program manager's system holds the demo program's webhook key.
            "webhook_receiver": ["--secret-file", str(webhook_secret_file(stack.secrets_dir))],
        }.get(name, [])

    def ready(self) -> bool:
        return all(port_in_use(port) for port in self.ports.values())

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            f"slrt_dev.standins.{self.module}",
            "--port",
            str(self.port),
            *self.args,
        ]


def standin_processes(stack: StackSettings) -> list[StandinProcess]:
    return [StandinProcess(name, stack) for name in STANDINS]


def contacts_file(stack: StackSettings) -> Path:
    """The notifier's contact directory on the local stack (``SLRT_NOTIFIER_CONTACTS_FILE``)."""
    return stack.data_dir / "notifier-contacts.json"


def write_contacts(path: Path, district: str) -> None:
    """The demo district's facilitators in the notifier's contact directory: their tasks (a
    household with no phone and no email is told through them) go by email to the SMTP sink."""
    from slrt_dev.demo.paths import FACILITATOR_MAILBOX

    entries = {f"facilitator:{district}": {"email": FACILITATOR_MAILBOX, "language": "id"}}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(entries, indent=2) + "\n")


def notifier_env(stack: StackSettings) -> dict[str, str]:
    """What the notifier needs to reach this stack's stand-ins and its contact directory;
    LAPOR! and SIKS-NG are polled every few seconds so that the demo's agencies' answers and
    SIKS-NG's verdicts arrive while one watches."""
    return {
        "SLRT_NOTIFIER_CONTACTS_FILE": str(contacts_file(stack)),
        "SLRT_NOTIFIER_LAPOR_URL": f"http://127.0.0.1:{stack.lapor_port}",
        "SLRT_NOTIFIER_LAPOR_POLL_SECONDS": "3",
        "SLRT_NOTIFIER_SIKS_NG_URL": f"http://127.0.0.1:{stack.siks_ng_port}",
        "SLRT_NOTIFIER_SIKS_NG_POLL_SECONDS": "3",
        "SLRT_NOTIFIER_SMS_GATEWAY_URL": f"http://127.0.0.1:{stack.sms_gateway_port}",
        "SLRT_NOTIFIER_SMTP_HOST": "127.0.0.1",
        "SLRT_NOTIFIER_SMTP_PORT": str(stack.smtp_sink_port),
    }


def intake_env() -> dict[str, str]:
    """The demo checks every ticket on the public tracking API from one client (loopback):
    the local stack allows it more than a household's 10 a minute."""
    return {"SLRT_INTAKE_TRACKING_LIMIT_PER_MINUTE": "1000"}


def notifier_service_env() -> dict[str, str]:
    """The notifier's service token for intake's contact endpoint, minted by the stack's
    development issuer (production: the OIDC provider's client-credentials grant)."""
    from slrt_dev.issuer import NOTIFIER_TOKEN_ENV, default_issuer, notifier_service_token

    return {NOTIFIER_TOKEN_ENV: notifier_service_token(default_issuer())}


def registry_env() -> dict[str, str]:
    """The webhook receiver stand-in listens on loopback over plain http: the catalog accepts a
    program whose callback URL points at it only from these hosts."""
    return {"SLRT_REGISTRY_PLAIN_HTTP_CALLBACK_HOSTS": '["127.0.0.1","localhost"]'}


def registry_service_env() -> dict[str, str]:
    """The registry's service token for intake's complainant endpoint, minted by the stack's
    development issuer (production: the OIDC provider's client-credentials grant)."""
    from slrt_dev.issuer import REGISTRY_TOKEN_ENV, default_issuer, registry_service_token

    return {REGISTRY_TOKEN_ENV: registry_service_token(default_issuer())}
