"""An outside virus scanner that every upload must pass when one is configured.

FORUM_SCAN_COMMAND is a command line (ClamAV's `clamdscan --no-summary --fdpass`, for
example) to which the path of the uploaded file is added. Its exit status decides, as
ClamAV's tools and most scanners report it: 0 clean, 1 a threat found (the upload is refused
and the security log says so), anything else, a crash or no answer within
SCAN_TIMEOUT_SECONDS: the file could not be checked, and it is refused too (nothing unchecked
gets in; the error log tells the administrators).
"""

from __future__ import annotations

import logging
import shlex
import subprocess
from pathlib import Path

from forum.materials.filetypes import RejectedFile

log = logging.getLogger(__name__)
security_log = logging.getLogger("forum.security")

SCAN_TIMEOUT_SECONDS = 120


def scan_upload(path: Path, command: str, name: str) -> None:
    """Raise RejectedFile unless the scanner passes the file (nothing to do without one)."""
    if not command.strip():
        return
    try:
        result = subprocess.run([*shlex.split(command), str(path)], capture_output=True,
                                stdin=subprocess.DEVNULL, timeout=SCAN_TIMEOUT_SECONDS)
    except (OSError, ValueError, subprocess.TimeoutExpired) as error:
        log.error("virus scanner did not run (%s): %s; upload %r refused", command, error, name)
        raise RejectedFile("scan_failed") from None
    if result.returncode == 0:
        return
    output = (result.stdout + result.stderr).decode(errors="replace").strip()[-500:]
    if result.returncode == 1:
        security_log.warning("upload refused by the virus scanner name=%r: %s", name, output)
        raise RejectedFile("infected")
    log.error("virus scanner failed with status %d on upload %r: %s", result.returncode, name,
              output)
    raise RejectedFile("scan_failed")
