"""The command line as installed: ``python -m aggregator.app.cli`` in a subprocess."""

import subprocess
import sys


def test_console_script_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aggregator.app.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("crawl", "run", "feeds", "serve", "status", "export", "sites", "sampleweb",
                    "demo"):  # fmt: skip
        assert command in result.stdout
