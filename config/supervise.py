"""Run a command and start it again whenever it exits on its own: ``make run``'s supervisor.

    python config/supervise.py [--name worker] -- .venv/bin/celery -A config worker ...

It runs as a script, importing nothing of Masthead's, so it stays up whatever the command does.

honcho (the ``Procfile``) stops every process when one of them exits, so a Celery worker or
beat that dies (a library bug, an out-of-memory kill) would take the whole local run down, or
leave events waiting for a person. Wrapped in this, the command is started again after a
pause, as systemd's ``Restart=always`` does in production (see the README). The pause is one
second, doubled (up to a minute) while the command keeps dying within a minute of starting.
SIGTERM or SIGINT is passed on to the command, which is then waited for, and not restarted.
"""

import argparse
import signal
import subprocess
import sys
import time
from types import FrameType

LONGEST_PAUSE = 60.0
HEALTHY_AFTER = 60.0  # seconds of running after which a death is not part of a crash loop


def _say(name: str, message: str) -> None:
    print(f"supervise[{name}]: {message}", file=sys.stderr, flush=True)


class Supervisor:
    """Keeps one command running until told to stop."""

    def __init__(self, *, name: str, command: list[str], pause: float = 1.0) -> None:
        self.name, self.command, self.first_pause = name, command, pause
        self.stopping: int | None = None  # the signal that asked us to stop
        self.child: subprocess.Popen[bytes] | None = None

    def stop(self, signum: int, frame: FrameType | None = None) -> None:
        """Signal handler: pass the signal on and stop restarting."""
        self.stopping = signum
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def run(self) -> int:
        """Run the command until a signal stops it; return its last exit code."""
        pause = self.first_pause
        while True:
            began = time.monotonic()
            self.child = subprocess.Popen(self.command)  # noqa: S603 (the operator's own command)
            if self.stopping is not None:  # the signal came before the child was known
                self.child.send_signal(self.stopping)
            code = self.child.wait()
            if self.stopping is not None:
                return code if code >= 0 else 128 - code
            if time.monotonic() - began > HEALTHY_AFTER:
                pause = self.first_pause
            _say(self.name, f"exited with code {code}; starting it again in {pause:g} s")
            deadline = time.monotonic() + pause
            while self.stopping is None and time.monotonic() < deadline:
                time.sleep(0.1)
            if self.stopping is not None:
                return 0
            pause = min(pause * 2, LONGEST_PAUSE)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python config/supervise.py", description=__doc__)
    parser.add_argument("--name", default="process", help="name used in this tool's lines")
    parser.add_argument("--pause", type=float, default=1.0, help="first pause, in seconds")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the command to keep up")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given")
    supervisor = Supervisor(name=args.name, command=command, pause=args.pause)
    signal.signal(signal.SIGTERM, supervisor.stop)
    signal.signal(signal.SIGINT, supervisor.stop)
    return supervisor.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
