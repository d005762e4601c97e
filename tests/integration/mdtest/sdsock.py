"""Stand-ins for systemd's side of the sd_notify and journald native
protocols: AF_UNIX datagram sockets in a temp dir that record what the agent
sends, and a `run` daemon started with the environment systemd would give it.
"""
import os
import signal
import socket
import struct
import subprocess
import threading
import time

from .agent import magos_bin


class DatagramRecorder:
    """A bound AF_UNIX/SOCK_DGRAM socket; every datagram is kept with the
    monotonic time it arrived."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self._lock = threading.Lock()
        self._items = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop:
            try:
                data = self.sock.recv(1 << 20)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self._items.append((time.monotonic(), data))

    def items(self):
        with self._lock:
            return list(self._items)

    def wait_for(self, pred, timeout=30, what="datagram", start=0):
        """The first item at index >= start matching pred(data) (index, time, data)."""
        deadline = time.monotonic() + timeout
        while True:
            items = self.items()
            for i in range(start, len(items)):
                if pred(items[i][1]):
                    return i, items[i][0], items[i][1]
            assert time.monotonic() < deadline, f"no {what} after {timeout}s: {items[-20:]}"
            time.sleep(0.05)

    def close(self):
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def notify_lines(data):
    return data.decode(errors="replace").split("\n")


def parse_journal(data):
    """A native journal datagram → list of (name, value bytes)."""
    fields = []
    i = 0
    while i < len(data):
        nl = data.index(b"\n", i)
        line = data[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            fields.append((k.decode(), v))
            i = nl + 1
        else:
            (n,) = struct.unpack("<Q", data[nl + 1:nl + 9])
            fields.append((line.decode(), data[nl + 9:nl + 9 + n]))
            assert data[nl + 9 + n:nl + 10 + n] == b"\n", data
            i = nl + 10 + n
    return fields


def journal_dict(data):
    return {k: v.decode(errors="replace") for k, v in parse_journal(data)}


class RunDaemon:
    """`magos-dominus run` with stderr in a file (never a full pipe). `prefix`
    runs it through a program that execs it (e.g. setpriv): same PID."""

    def __init__(self, agent, env=None, stderr_path=None, prefix=()):
        self.agent = agent
        self.stderr_path = stderr_path or os.path.join(agent.tmp, "stderr.log")
        self._err = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([*prefix, magos_bin(), "--config", agent.env_file, "run"],
                                     env=agent.environ(env), cwd=agent.tmp,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=self._err)

    def stderr(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            self._err.close()

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        if not self._err.closed:
            self._err.close()
