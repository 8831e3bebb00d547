"""The hostile sample web (moved into a package; see :mod:`sampleweb.hostile.plan`)."""

from sampleweb.hostile.plan import (
    CRAWL_SETTINGS,
    EVIL,
    HANG_SECONDS,
    PAYLOAD_HTML,
    PAYLOAD_MARK,
    SLOW_SECONDS,
    Fault,
    HostilePlan,
    HostileWeb,
    hostile_site_definition,
    plan_hostile_web,
    to_windows_1258,
)

__all__ = [
    "CRAWL_SETTINGS",
    "EVIL",
    "HANG_SECONDS",
    "PAYLOAD_HTML",
    "PAYLOAD_MARK",
    "SLOW_SECONDS",
    "Fault",
    "HostilePlan",
    "HostileWeb",
    "hostile_site_definition",
    "plan_hostile_web",
    "to_windows_1258",
]
