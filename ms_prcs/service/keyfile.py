"""The secret key file ``ms-prcs init`` writes when ``MS_PRCS_SECRET_KEY`` is not set: created once, mode 0600
(readable by its owner only), never overwritten, so existing sessions stay valid across ``init`` runs."""

from __future__ import annotations

import os
from pathlib import Path

from ms_prcs.service.security import new_secret_key


def ensure_key_file(path: str) -> bool:
    """Write a new random key to ``path`` unless it exists; True when written."""
    target = Path(path)
    if target.exists():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: two inits at once cannot both write (and one overwrite the other's key); 0600 from the start.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(new_secret_key() + "\n")
    return True
