"""``python -m sampleweb``: serve the sample web until SIGTERM or Ctrl-C.

The first line of stdout is the server URL, then one line per newspaper:
``<id> <base_url>``. ``--hostile SEED`` serves the hostile web (faults, bad input and
attacks chosen from SEED; see :mod:`sampleweb.hostile`), ``--write-truth FILE``
writes its ground truth (every fault) as JSON.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from sampleweb.server import SampleWeb

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="aggregator sampleweb",
        description="Serve the sample provincial web (four fictional newspapers) locally.",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=0, help="port (default 0: any free port)")
    p.add_argument("--access-log", metavar="FILE", help="append one line per request to FILE")
    p.add_argument(
        "--write-sites",
        metavar="DIR",
        help="write the site definitions (<id>.toml, with this server's URLs) into DIR",
    )
    p.add_argument(
        "--hostile",
        metavar="SEED",
        type=int,
        help="serve the hostile web: faults, bad input and attacks chosen from SEED",
    )
    p.add_argument(
        "--write-truth",
        metavar="FILE",
        help="with --hostile: write its ground truth (every fault) to FILE as JSON",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the server; returns the exit status."""
    args = _parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        print(f"error: --port {args.port}: must be 0-65535", file=sys.stderr)
        return 2
    if args.write_truth and args.hostile is None:
        print("error: --write-truth needs --hostile SEED", file=sys.stderr)
        return 2
    web = SampleWeb(args.host, args.port, args.access_log, hostile=args.hostile)
    try:
        web.start()
    except OSError as exc:
        print(f"error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # a ground-truth file that does not fit its template
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        # before the URL is printed: a SIGTERM right after reading it must not kill us
        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if args.write_sites:
            try:
                web.write_site_definitions(args.write_sites)
            except OSError as exc:
                print(f"error: cannot write site definitions: {exc}", file=sys.stderr)
                return 1
        if args.write_truth and web.hostile_plan is not None:
            try:
                with open(args.write_truth, "w", encoding="utf-8") as out:
                    json.dump(web.hostile_plan.to_json(), out, ensure_ascii=False, indent=1)
            except OSError as exc:
                print(f"error: cannot write the ground truth: {exc}", file=sys.stderr)
                return 1
        print(web.url)
        for site in web.sites:
            print(site, web.base_url(site))
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        web.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
