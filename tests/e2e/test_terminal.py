"""`loadctl start` on a terminal draws a live view (progress bar and
per-endpoint table, redrawn in place, cursor hidden and restored); on a pipe,
or with NO_COLOR, it prints plain lines without a single escape byte."""

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import termios
import time
import unittest

from fleet import Fleet, binary, http

ESC = b"\x1b"
HIDE_CURSOR = b"\x1b[?25l"
SHOW_CURSOR = b"\x1b[?25h"
CURSOR_UP = re.compile(rb"\x1b\[\d+A")
BAR = re.compile(rb"\[[=#.-]{10,}\]\s+\d+%")


def run_active(fleet):
    """Whether the fleet's newest run has not ended yet."""
    runs = http("GET", fleet.rest + "/v1/runs")[1]["runs"]
    return bool(runs) and runs[0]["state"] not in ("finished", "stopped", "failed",
                                                    "interrupted")


class TerminalRun:
    """loadctl under a pseudo-terminal of columns x rows; collects all it
    writes to the terminal (stdout and stderr both go there)."""

    def __init__(self, fleet, args, env=None, columns=100, rows=30):
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        full_env = dict(fleet.env, LOADD_COORDINATOR=fleet.rest, TERM="xterm-256color")
        full_env.pop("NO_COLOR", None)
        full_env.update(env or {})
        self.proc = subprocess.Popen([binary("loadctl")] + list(args), stdin=subprocess.DEVNULL,
                                     stdout=slave, stderr=slave, cwd=fleet.tmp, env=full_env,
                                     start_new_session=True)
        os.close(slave)
        self.master = master
        self.output = b""

    def read_until(self, pattern, timeout):
        """Reads until the output matches pattern (bytes regex) or loadctl
        ends; returns whether it matched."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if re.search(pattern, self.output):
                return True
            if not self._read(min(0.5, max(0.0, deadline - time.time()))):
                return bool(re.search(pattern, self.output))
        return bool(re.search(pattern, self.output))

    def wait(self, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline and self._read(0.5):
            pass
        try:
            return self.proc.wait(timeout=max(1.0, deadline - time.time()))
        finally:
            os.close(self.master)

    def _read(self, timeout):
        """False once the terminal is closed (loadctl ended)."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return self.proc.poll() is None
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the other side closed
            return False
        self.output += chunk
        return bool(chunk)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


class LiveView(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fleet = Fleet(workers=1).__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.fleet.__exit__(None, None, None)

    def start_args(self, duration="4s", path="/delay/2ms"):
        # A ramp over the first 2 s (4 users at 2/s), then steady.
        return ["start", "--users", "4", "--spawn-rate", "2", "--duration", duration,
                "--target", self.fleet.target_url + path]

    def test_terminal_gets_a_progress_bar_redrawn_in_place(self):
        run = TerminalRun(self.fleet, self.start_args())
        try:
            code = run.wait(timeout=40)
        finally:
            run.kill()
        out = run.output
        self.assertEqual(code, 0, out.decode(errors="replace"))
        self.assertIn(HIDE_CURSOR, out)
        self.assertIn(b"\x1b[32m", out)  # coloured: the bar's filled cells
        uncoloured = re.sub(rb"\x1b\[[0-9;]*m", b"", out)
        self.assertTrue(BAR.search(uncoloured), out)
        self.assertIn(b"100%", out)
        self.assertIn(b"ramp", out)  # the first seconds ramp users up
        self.assertTrue(CURSOR_UP.search(out), "no in-place redraw: " + repr(out[-2000:]))
        self.assertIn(b"\x1b[K", out)  # each line clears what was there
        self.assertIn(b"\x1b[J", out)  # and what lay below the frame
        self.assertRegex(uncoloured, rb"Requests\s+Fails\s+RPS\s+p50\s+p95\s+p99")
        self.assertIn(b"GET /delay/2ms", out)
        # The cursor is shown again, and the final report follows the view.
        shown = out.rfind(SHOW_CURSOR)
        self.assertGreater(shown, out.rfind(HIDE_CURSOR))
        self.assertIn(b"Aggregated", out[shown:])
        # Every line of the view fits the 100 columns of the terminal.
        for line in re.split(rb"\r\n|\n|\r|\x1b\[K", out[:shown]):
            visible = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", line).decode(errors="replace")
            self.assertLessEqual(len(visible), 100, visible)

    def test_ctrl_c_stops_the_run_and_restores_the_cursor(self):
        run = TerminalRun(self.fleet, self.start_args(duration="30s"))
        try:
            self.assertTrue(run.read_until(CURSOR_UP.pattern, timeout=20),
                            "no redraw within 20 s: " + repr(run.output))
            run.proc.send_signal(signal.SIGINT)
            code = run.wait(timeout=30)
        finally:
            run.kill()
        out = run.output
        self.assertEqual(code, 2, out.decode(errors="replace"))  # a stopped run
        self.assertIn(b"stopping run", out)
        self.assertGreater(out.rfind(SHOW_CURSOR), out.rfind(HIDE_CURSOR))
        self.assertRegex(out, rb"Run r\S+\s+stopped")

    def test_second_ctrl_c_ends_loadctl_with_the_cursor_shown(self):
        # Slow requests keep the run stopping (graceful_stop) after the first
        # Ctrl-C, so the second one finds loadctl still watching.
        run = TerminalRun(self.fleet, self.start_args(duration="30s", path="/delay/4s"))
        try:
            self.assertTrue(run.read_until(CURSOR_UP.pattern, timeout=20),
                            "no redraw within 20 s: " + repr(run.output))
            run.proc.send_signal(signal.SIGINT)
            # The stop shows the cursor; the next frame hides it again.
            self.assertTrue(run.read_until(rb"stopping run[\s\S]*\x1b\[\?25l", timeout=20),
                            repr(run.output))
            run.proc.send_signal(signal.SIGINT)
            code = run.wait(timeout=20)
        finally:
            run.kill()
            # The run may still be stopping: let it end before the next test.
            deadline = time.time() + 20
            while time.time() < deadline and run_active(self.fleet):
                time.sleep(0.2)
        self.assertEqual(code, -signal.SIGINT, run.output.decode(errors="replace"))
        # The cursor is left shown: either the second Ctrl-C wrote "show" on
        # its way out (the view was up), or the run had finished stopping
        # just before it, and the view had already shown the cursor before
        # the final report (seen on a slow, sanitized build).
        out = run.output
        self.assertIn(SHOW_CURSOR, out)
        self.assertGreater(out.rfind(SHOW_CURSOR), out.rfind(HIDE_CURSOR), repr(out[-300:]))

    def test_no_color_on_a_terminal_gets_plain_lines(self):
        for env in ({"NO_COLOR": "1"}, {"TERM": "dumb"}):
            with self.subTest(env=env):
                run = TerminalRun(self.fleet, self.start_args(duration="2s"), env=env)
                try:
                    code = run.wait(timeout=30)
                finally:
                    run.kill()
                self.assertEqual(code, 0, run.output.decode(errors="replace"))
                self.assertNotIn(ESC, run.output)
                self.assertRegex(run.output, rb"\nrunning  \d")

    def test_pipe_gets_plain_lines_without_escapes(self):
        r = subprocess.run([binary("loadctl")] + self.start_args(duration="3s"),
                           capture_output=True, timeout=60, cwd=self.fleet.tmp,
                           env=dict(self.fleet.env, LOADD_COORDINATOR=self.fleet.rest,
                                    TERM="xterm-256color"))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn(ESC, r.stdout)
        self.assertNotIn(ESC, r.stderr)
        self.assertNotIn(b"\r", r.stdout)
        lines = r.stdout.decode().splitlines()
        progress = [l for l in lines if re.match(r"(running|stopping|finished)  \d", l)]
        self.assertGreaterEqual(len(progress), 2, r.stdout)
        self.assertIn("Aggregated", r.stdout.decode())


if __name__ == "__main__":
    unittest.main(verbosity=2)
