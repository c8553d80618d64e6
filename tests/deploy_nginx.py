"""Real nginx running deploy/nginx/forum.conf as printed, with only its placeholders replaced:
host name, certificate (a self-signed one made with the openssl CLI), listen ports, the two app
processes' ports and the static folder. Used by tests/test_deploy_nginx.py and
bench/join_burst.py; 127.0.0.1 only."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from tests.chat.live import ROOT
from tests.servers import STARTUP_TIMEOUT, ComponentUnavailable, free_port, stop_process

SITE = ROOT / "deploy" / "nginx" / "forum.conf"
NGINX = os.environ.get("FORUM_NGINX", "/usr/sbin/nginx")


def nginx_binary() -> str:
    path = NGINX if os.access(NGINX, os.X_OK) else shutil.which("nginx")
    if not path:
        raise ComponentUnavailable("nginx", f"{NGINX} not found (apt-get install nginx-light)")
    return path


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    return cert, key


def site_for_test(*, http_port: int, https_port: int, app_ports: tuple[int, int], cert: Path,
                  key: Path, acme_root: Path) -> str:
    """The printed site file with its placeholders replaced (each must be there)."""
    text = SITE.read_text()
    replacements = [
        ("/etc/letsencrypt/live/forum.example.org/fullchain.pem", str(cert)),
        ("/etc/letsencrypt/live/forum.example.org/privkey.pem", str(key)),
        ("server_name forum.example.org;", "server_name 127.0.0.1;"),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen [::]:80;\n", ""),  # 127.0.0.1 only in tests
        ("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;"),
        ("listen [::]:443 ssl;\n", ""),
        ("https://$host$request_uri", f"https://$host:{https_port}$request_uri"),
        ("/srv/forum/static/", f"{ROOT / 'static'}/"),
        ("/var/www/letsencrypt", str(acme_root)),
        ("server 127.0.0.1:8001;", f"server 127.0.0.1:{app_ports[0]};"),
        ("server 127.0.0.1:8002;", f"server 127.0.0.1:{app_ports[1]};"),
    ]
    for placeholder, value in replacements:
        assert placeholder in text, f"deploy/nginx/forum.conf lost its placeholder {placeholder!r}"
        text = text.replace(placeholder, value)
    return text


def main_config(prefix: Path, site: Path) -> str:
    """What /etc/nginx/nginx.conf provides, reduced, with every path in `prefix`."""
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers read the checkout as we do
    temp = "\n".join(f"    {kind}_temp_path {prefix / kind};"
                     for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return f"""{user}daemon off;
worker_processes 1;
pid {prefix / 'nginx.pid'};
error_log {prefix / 'error.log'} info;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format upstreams '$upstream_addr "$request" $status';
    access_log {prefix / 'access.log'} upstreams;
{temp}
    include {site};
}}
"""


@dataclass
class Nginx:
    http_url: str
    https_url: str
    cert: Path
    prefix: Path
    process: subprocess.Popen

    def access_log(self) -> str:
        return (self.prefix / "access.log").read_text(errors="replace")

    def error_log(self) -> str:
        return (self.prefix / "error.log").read_text(errors="replace")


def configtest(prefix: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [nginx_binary(), "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
         "-e", str(prefix / "error.log")],
        capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=30)


@contextmanager
def nginx_proxy(prefix: Path, app_ports: tuple[int, int], *, http_port: int | None = None,
                https_port: int | None = None) -> Iterator[Nginx]:
    """nginx in front of the app processes on `app_ports`; `nginx -t` must pass first."""
    binary = nginx_binary()
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "acme").mkdir(exist_ok=True)
    cert, key = self_signed_certificate(prefix)
    http_port, https_port = http_port or free_port(), https_port or free_port()
    site = prefix / "forum.conf"
    site.write_text(site_for_test(http_port=http_port, https_port=https_port, app_ports=app_ports,
                                  cert=cert, key=key, acme_root=prefix / "acme"))
    (prefix / "nginx.conf").write_text(main_config(prefix, site))
    check = configtest(prefix)
    if check.returncode != 0:
        raise AssertionError(f"nginx -t failed:\n{check.stderr}")
    process = subprocess.Popen(
        [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
         str(prefix / "error.log")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    proxy = Nginx(f"http://127.0.0.1:{http_port}", f"https://127.0.0.1:{https_port}", cert,
                  prefix, process)
    try:
        _wait_for_port(https_port, proxy)
        yield proxy
    finally:
        stop_process(process)  # SIGTERM: nginx's fast shutdown


def _wait_for_port(port: int, proxy: Nginx) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if proxy.process.poll() is not None:
            raise RuntimeError(f"nginx exited with {proxy.process.returncode}:\n"
                               f"{proxy.error_log()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nginx does not listen:\n{proxy.error_log()[-3000:]}") from None
            time.sleep(0.05)


def browser_session(proxy: Nginx, route: str | None = None) -> requests.Session:
    """A requests session that behaves like a browser on the site: trusts the test certificate,
    sends a same-origin Referer (Flask-WTF insists on one over HTTPS) and, if given, carries a
    chosen routing cookie."""
    session = requests.Session()
    session.trust_env = False  # else REQUESTS_CA_BUNDLE in the environment beats `verify`
    session.verify = str(proxy.cert)
    session.headers["Referer"] = f"{proxy.https_url}/"
    if route is not None:
        session.cookies.set("forum_route", route, domain="127.0.0.1", path="/")
    return session


def sign_in(session: requests.Session, base: str, email: str, password: str) -> None:
    page = session.get(f"{base}/login", timeout=10)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    assert token, page.text[:500]
    answer = session.post(f"{base}/login", data={"email": email, "password": password,
                                                 "csrf_token": token.group(1)},
                          allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:1000]
