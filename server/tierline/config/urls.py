"""Store URLs in messages without their passwords.

`urllib.parse` stops the user information at the first `/`, `?` or `#`, so a password holding one of
them (`redis://:pa/ss@host`) would come back whole in its "path". Here the user information is
everything between `scheme://` and the last `@` before the host: whatever a password holds, it is
masked, in every message (refusals, doctor, report, logs).
"""

from __future__ import annotations

import re

_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^\s]*)@(?=[^@\s]*$|[^@\s]*\s)")


def public_url(url: str) -> str:
    """`url` with its password (or a user information without a colon, which redis reads as one) as `***`."""
    return _USERINFO.sub(_masked, url)


def _masked(match: re.Match[str]) -> str:
    userinfo = match["userinfo"]
    user, colon, _ = userinfo.partition(":")
    if not colon or "/" in user:
        return f"{match['scheme']}***@"
    return f"{match['scheme']}{user}:***@"


def without_secret(text: str, url: str) -> str:
    """`text` (an error message about `url`) with the URL and its password masked wherever they appear."""
    masked = text.replace(url, public_url(url))
    match = _USERINFO.match(url)
    if match:
        password = match["userinfo"].partition(":")[2] or match["userinfo"]
        if len(password) >= 3:
            masked = masked.replace(password, "***")
    return masked
