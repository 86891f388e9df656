"""Progress lines for long commands: count, rate and ETA, at most a few per second."""

import sys
import time
from typing import TextIO


class ProgressReporter:
    """Call with the running count; prints ``label: n/total (rate/s, ETA)`` now and then."""

    def __init__(
        self,
        out: TextIO,
        label: str,
        *,
        total: int | None = None,
        unit: str = "entries",
        every: float = 1.0,
    ):
        self.out, self.label, self.total, self.unit, self.every = out, label, total, unit, every
        self.started = self.last = time.monotonic()
        self.count = 0
        self.tty = getattr(out, "isatty", lambda: False)()

    def __call__(self, count: int) -> None:
        self.count = count
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            self._print(now)

    def done(self) -> float:
        """Print the final line; return elapsed seconds."""
        now = time.monotonic()
        if self.count and now - self.started >= self.every:
            self._print(now)
        if self.tty:
            self.out.write("\n")
        return now - self.started

    def _print(self, now: float) -> None:
        elapsed = max(now - self.started, 1e-9)
        rate = self.count / elapsed
        text = f"{self.label}: {self.count:,} {self.unit} ({rate:,.0f}/s"
        if self.total and rate:
            eta = (self.total - self.count) / rate
            text += f", {self.count * 100 // self.total}%, ETA {eta:.0f}s"
        text += ")"
        if self.tty:
            self.out.write("\r" + text.ljust(78))
            self.out.flush()
        else:
            self.out.write(text + "\n")


def stderr_reporter(label: str, **kwargs) -> ProgressReporter:
    return ProgressReporter(sys.stderr, label, **kwargs)
