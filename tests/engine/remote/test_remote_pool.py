"""Remote workers: real ``papy worker`` servers on 127.0.0.1 (and in network namespaces).

Every server is a subprocess on a free port; tests wait for conditions
(the port accepting, a process gone) with deadlines, never fixed sleeps.
"""
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from helpers import ROOT, collect, wait_until
from papy_engine import IMap, Piper, Plumber, Worker, imports, is_placeholder
from papy_engine import remote
from papy_engine.remote import client as remote_client
from papy_engine.remote import pool as remote_pool
from papy_engine.remote import handshake as remote_handshake
from papy_engine.errors import IMapError, PiperError, WorkerError

PAPY = str(Path(sys.executable).with_name("papy"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def accepts(host, port) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class Server:
    """A ``papy worker`` subprocess; ``address`` is ``host:port``."""

    def __init__(self, tmp_path, *args, host="127.0.0.1", env=None, prefix=(), name="w"):
        self.host, self.port = host, free_port()
        self.address = f"{host}:{self.port}"
        self.log = tmp_path / f"{name}-{self.port}.log"
        self.err = open(tmp_path / f"{name}-{self.port}.err", "w+")
        cmd = [*prefix, PAPY, "worker", "--host", host, "--port", str(self.port),
               "--log", str(self.log), *args]
        self.proc = subprocess.Popen(cmd, stderr=self.err, stdout=subprocess.DEVNULL,
                                     env={**os.environ, **(env or {})})
        self.ps = psutil.Process(self.proc.pid)

    def wait_ready(self, timeout=15):
        ok = wait_until(lambda: self.proc.poll() is not None or accepts(self.host, self.port),
                        timeout)
        assert ok and self.proc.poll() is None, f"server did not start: {self.stderr()}"
        return self

    def children(self):
        try:
            return self.ps.children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def stderr(self) -> str:
        self.err.flush()
        self.err.seek(0)
        return self.err.read()

    def logtext(self) -> str:
        return self.log.read_text() if self.log.exists() else ""

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()


@pytest.fixture
def servers(tmp_path):
    """``servers(*args, **kw)`` starts a ready server; all are stopped afterwards."""
    made = []

    def start(*args, wait=True, **kw):
        s = Server(tmp_path, *args, **kw)
        made.append(s)
        return s.wait_ready() if wait else s
    yield start
    leftovers = []
    for s in made:
        kids = s.children()
        s.stop()
        leftovers += [k for k in kids if k.is_running() and k.status() != psutil.STATUS_ZOMBIE]
        s.err.close()
    assert wait_until(lambda: not any(k.is_running() for k in leftovers), 10), leftovers


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    # fast reconnection in tests; each test sets its own credentials
    monkeypatch.setattr(remote_pool, "RECONNECT_DELAYS", (0.0, 0.05, 0.1))
    monkeypatch.setattr(remote_handshake, "_credentials", None)
    monkeypatch.delenv("PAPY_WORKER_TOKEN", raising=False)
    yield
    assert wait_until(lambda: multiprocessing.active_children() == [], 10), \
        multiprocessing.active_children()


# -- correctness ----------------------------------------------------------------------
@pytest.mark.timeout(30)
def test_purely_remote_pool_keeps_order(servers):
    s = servers()
    with IMap(lambda x: x * x, range(500), worker_num=0,
              worker_remote=[(s.address, 2)]) as m:
        assert list(m) == [x * x for x in range(500)]
    assert len(s.children()) <= 2


@pytest.mark.timeout(30)
def test_plumber_runs_unchanged_on_a_remote_pool(servers):
    s = servers()
    pool = IMap(worker_num=0, worker_remote=[(s.address, 2)], name="remote")
    double = Piper(Worker(lambda inbox: inbox[0] * 2), parallel=pool, name="double")
    out = Piper(Worker(lambda inbox: inbox[0] + 1), name="out", track=True)
    p = Plumber()
    p.add_pipe((double, out))
    p.start([range(100)])
    p.run()
    assert p.wait(20)
    assert p.results["out"] == [2 * x + 1 for x in range(100)]
    assert p.stats["state"] == "finished"


@pytest.mark.timeout(30)
def test_mixed_local_and_remote_workers_share_the_items(servers):
    s = servers()

    def where(x):
        import os
        import time
        time.sleep(0.003)
        return os.getpid()
    with IMap(where, range(300), worker_num=1,
              worker_remote=[(s.address, 2)]) as m:
        m.start()
        remote_pids = {c.pid for c in s.children()}
        pids = set(m)
    assert len(remote_pids) == 2 and remote_pids <= pids, (pids, remote_pids)
    local = pids - remote_pids
    assert len(local) == 1 and os.getpid() not in local


@pytest.mark.timeout(30)
def test_imports_lambdas_and_closures_run_remotely(servers):
    s = servers()

    @imports(["zlib as zz", "json"])
    def crc(x):
        return zz.crc32(json.dumps(x).encode())  # noqa: F821 (imported remotely)

    k = 7

    def closure(x):
        return x * k
    funcs = [crc, closure, lambda x: (x, "lam")]
    m = IMap(worker_num=0, worker_remote=[(s.address, 1)])
    tids = [m.add_task(f, range(20)) for f in funcs]
    m.start()
    import json as j
    import zlib as z
    assert list(m.get_task(tids[0])) == [z.crc32(j.dumps(x).encode()) for x in range(20)]
    assert list(m.get_task(tids[1])) == [x * 7 for x in range(20)]
    assert list(m.get_task(tids[2])) == [(x, "lam") for x in range(20)]
    m.stop()


@pytest.mark.timeout(30)
def test_function_of_a_module_missing_remotely_gives_clear_placeholders(servers, tmp_path,
                                                                        monkeypatch):
    (tmp_path / "only_here.py").write_text("def triple(x):\n    return 3 * x\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import only_here
    s = servers()
    with IMap(only_here.triple, range(5), worker_num=0, worker_remote=[(s.address, 1)]) as m:
        out = collect(m)
    assert all(isinstance(r, WorkerError) and r.exc_type == "RemoteLoadError" for r in out)
    assert "only_here" in out[0].message and [r.index for r in out] == list(range(5))


@pytest.mark.timeout(30)
def test_long_items_are_not_cut_by_rpyc_request_timeout(servers, monkeypatch):
    # shrink rpyc's sync timeout: chunks are async requests, so it must not apply
    monkeypatch.setitem(remote_client.CLIENT_CONFIG, "sync_request_timeout", 0.3)
    s = servers()

    def slow(x):
        import time
        time.sleep(1.0)
        return x
    with IMap(slow, range(2), worker_num=0, worker_remote=[(s.address, 2)]) as m:
        assert list(m) == [0, 1]


@pytest.mark.timeout(30)
def test_piper_timeout_applies_remotely_and_abandons_the_item(servers):
    s = servers()

    def stuck(x):
        import time
        time.sleep(60 if x == 1 else 0.01)
        return x
    m = IMap(worker_num=0, worker_remote=[(s.address, 1)])
    tid = m.add_task(stuck, range(4), timeout=1.0)
    m.start()
    first = s.children()
    out = collect(m, tid)
    m.stop()
    assert [r for i, r in enumerate(out) if i != 1] == [0, 2, 3]
    assert isinstance(out[1], PiperError) and out[1].exc_type == "TimeoutError"
    # the connection process that held the stuck item exits with its client
    assert wait_until(lambda: not any(p.is_running() for p in first), 10)


# -- failures ----------------------------------------------------------------------------
def _shipped_by_value():
    # A closure is not importable by name, so dill sends it by value: the
    # servers do not have this test module on their path.
    def sleepy(x):
        import time
        time.sleep(0.005)
        return x * 2
    return sleepy


_sleepy = _shipped_by_value()


@pytest.mark.timeout(40)
def test_server_killed_mid_run_loses_nothing(servers, caplog):
    caplog.set_level(logging.INFO, logger="papy_engine")
    a, b = servers(name="a"), servers(name="b")
    m = IMap(_sleepy, range(400), worker_num=0,
             worker_remote=[(a.address, 2), (b.address, 1)], stride=20)
    got = []
    it = iter(m)
    for x in it:
        got.append(x)
        if len(got) == 40:
            a_kids = a.children()
            assert a_kids, "server a has no connection process"
            a.proc.kill()   # SIGKILL the server: its connection processes follow
            a.proc.wait(5)
    m.stop()
    assert got == [2 * x for x in range(400)]
    assert wait_until(lambda: not any(k.is_running() for k in a_kids), 10), a_kids
    text = caplog.text
    assert f"remote worker {a.address}" in text and "run again elsewhere" in text
    assert "reconnecting to " + a.address in text


@pytest.mark.timeout(30)
def test_lost_connection_reconnects_and_reruns(servers, caplog):
    caplog.set_level(logging.INFO, logger="papy_engine")
    s = servers()
    m = IMap(_sleepy, range(300), worker_num=0,
             worker_remote=[(s.address, 2)], stride=20)
    got = []
    for x in m:
        got.append(x)
        if len(got) == 30:
            s.children()[0].kill()   # one connection process dies; the server lives
    m.stop()
    assert got == [2 * x for x in range(300)]
    assert "reconnected to remote worker " + s.address in caplog.text


@pytest.mark.timeout(30)
def test_a_result_that_cannot_be_loaded_here_fails_alone_and_keeps_the_server(servers, caplog):
    caplog.set_level(logging.INFO, logger="papy_engine")
    s = servers()

    def unloadable_on_7(x):
        class Unloadable:
            def __reduce__(self):   # loads as int("not a number"): ValueError here
                return (int, ("not a number",))
        return Unloadable() if x == 7 else x
    with IMap(unloadable_on_7, range(60), worker_num=0, worker_remote=[(s.address, 2)],
              retries=1) as m:
        out = collect(m)
    assert [r for i, r in enumerate(out) if i != 7] == [x for x in range(60) if x != 7]
    err = out[7]
    assert isinstance(err, WorkerError) and err.exc_type == "UnpicklingError", err
    assert "cannot be loaded in the driving process" in err.message and err.index == 7
    assert "not a number" in err.message
    assert "reconnect" not in caplog.text and "lost" not in caplog.text


@pytest.mark.timeout(30)
def test_item_that_kills_its_server_becomes_a_placeholder_after_retries(servers):
    s = servers()

    def fatal(x):
        import os
        if x == 7:
            os._exit(3)
        return x
    with IMap(fatal, range(30), worker_num=0, worker_remote=[(s.address, 2)],
              retries=1) as m:
        out = collect(m)
    assert [r for i, r in enumerate(out) if i != 7] == [x for x in range(30) if x != 7]
    err = out[7]
    assert isinstance(err, WorkerError) and err.exc_type == "RemoteWorkerLost"
    assert s.address in err.message and "tried 2 time(s)" in err.message and err.index == 7


@pytest.mark.timeout(30)
def test_every_server_gone_gives_placeholders_not_a_hang(servers):
    s = servers()
    m = IMap(_sleepy, range(200), worker_num=0,
             worker_remote=[(s.address, 2)], stride=10)
    out = [m.next() for _ in range(20)]
    s.proc.kill()
    s.proc.wait(5)
    out += collect(m)
    m.stop()
    assert len(out) == 200 and out[:20] == [2 * x for x in range(20)]
    lost = [r for r in out if is_placeholder(r)]
    assert lost and all(s.address in r.message for r in lost)
    assert all(r == 2 * i for i, r in enumerate(out) if not is_placeholder(r))


@pytest.mark.timeout(20)
def test_unreachable_server_is_named_or_skipped(caplog):
    caplog.set_level(logging.INFO, logger="papy_engine")
    port = free_port()
    m = IMap(abs, range(5), worker_num=1, worker_remote=[(f"127.0.0.1:{port}", 2)])
    with pytest.raises(remote.RemoteError, match=f"127.0.0.1:{port}"):
        m.start()
    assert multiprocessing.active_children() == []
    with IMap(abs, range(-5, 0), worker_num=1, worker_remote=[(f"127.0.0.1:{port}", 2)],
              skip_unreachable=True) as m:
        assert list(m) == [5, 4, 3, 2, 1]
    assert f"127.0.0.1:{port}" in caplog.text
    with pytest.raises(IMapError, match="has no workers"):
        IMap(abs, range(3), worker_num=0, worker_remote=[(f"127.0.0.1:{port}", 1)],
             skip_unreachable=True).start()


# -- security and shutdown ------------------------------------------------------------------
@pytest.mark.timeout(30)
def test_token_authentication(servers, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="papy_engine")
    token = tmp_path / "token"
    token.write_text("right-token\n")
    token.chmod(0o600)
    s = servers("--auth-token-file", str(token))
    remote.set_credentials(token="right-token")
    with IMap(abs, range(-3, 0), worker_num=0, worker_remote=[(s.address, 1)]) as m:
        assert list(m) == [3, 2, 1]
    remote.set_credentials(token="wrong-token")
    with pytest.raises(remote.RemoteError, match=f"{s.address} refused.*wrong token"):
        IMap(abs, [1], worker_num=0, worker_remote=[(s.address, 1)]).start()
    assert "refused the connection: wrong token" in caplog.text       # client side log
    assert wait_until(lambda: "wrong token" in s.logtext(), 5), s.logtext()   # server side
    remote.set_credentials()
    with pytest.raises(remote.RemoteError, match="requires a token"):
        IMap(abs, [1], worker_num=0, worker_remote=[(s.address, 1)]).start()


@pytest.mark.timeout(20)
def test_non_loopback_without_authentication_is_refused(tmp_path):
    r = subprocess.run([PAPY, "worker", "--host", "0.0.0.0", "--port", str(free_port())],
                       capture_output=True, text=True, timeout=15,
                       env={k: v for k, v in os.environ.items() if k != "PAPY_WORKER_TOKEN"})
    assert r.returncode == 2
    assert "refusing to listen on 0.0.0.0 without authentication" in r.stderr
    assert "runs any code" in r.stderr


@pytest.mark.timeout(20)
def test_max_clients_refuses_extra_connections(servers):
    s = servers("--max-clients", "1")
    with pytest.raises(remote.RemoteError, match="max-clients"):
        IMap(abs, [1], worker_num=0, worker_remote=[(s.address, 2)]).start()
    assert wait_until(lambda: not s.children(), 10)   # the refused IMap's connection ended
    with IMap(abs, [-1], worker_num=0, worker_remote=[(s.address, 1)]) as m:
        assert list(m) == [1]


@pytest.mark.timeout(30)
@pytest.mark.parametrize("mode,sig", [("forking", signal.SIGTERM), ("threaded", signal.SIGINT)])
def test_clean_shutdown_leaves_no_process(servers, mode, sig):
    s = servers("--mode", mode)
    m = IMap(_sleepy, range(100000), worker_num=0,
             worker_remote=[(s.address, 2)], stride=10)
    it = iter(m)
    assert next(it) == 0
    kids = s.children()
    assert len(kids) == (2 if mode == "forking" else 0)
    assert s.stop(sig) == 0
    assert "shutting down" in s.logtext()
    assert wait_until(lambda: not any(k.is_running() for k in kids), 10)
    m.stop()
    assert multiprocessing.active_children() == []


# -- TLS, several hosts, command line ----------------------------------------------------------
def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _needs(why: str | None) -> None:
    """Skip for a capability this machine lacks -- but never in CI, where the
    test is part of what must pass (it runs as root with openssl and iproute2)."""
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"{why} (CI must be able to run this test)")
        pytest.skip(why)


@pytest.mark.timeout(40)
def test_tls_client_certificates(servers, tmp_path):
    _needs(None if shutil.which("openssl") else "needs the openssl command")
    d = tmp_path
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
             "ca.pem", "-days", "2", "-subj", "/CN=papy-test-ca", cwd=d)
    for name in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                 f"{name}.csr", "-subj", f"/CN=papy-{name}", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", cwd=d)
    s = servers("--ssl-certfile", str(d / "server.pem"), "--ssl-keyfile", str(d / "server.key"),
                "--ssl-ca-certs", str(d / "ca.pem"))
    remote.set_credentials(ssl_certfile=str(d / "client.pem"), ssl_keyfile=str(d / "client.key"),
                           ssl_ca_certs=str(d / "ca.pem"))
    with IMap(abs, range(-3, 0), worker_num=0, worker_remote=[(s.address, 1)]) as m:
        assert list(m) == [3, 2, 1]
    assert wait_until(lambda: "certificate 'papy-client'" in s.logtext(), 5)
    remote.set_credentials(ssl_ca_certs=str(d / "ca.pem"))   # no client certificate
    with pytest.raises(remote.RemoteError, match=s.address):
        IMap(abs, [1], worker_num=0, worker_remote=[(s.address, 1)]).start()
    assert wait_until(lambda: "refused client" in s.logtext(), 5), s.logtext()


def _netns_available() -> str | None:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        return "needs root and iproute2 to create network namespaces"
    name = f"papyprobe{os.getpid()}"
    r = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if r.returncode:
        return f"'ip netns add' failed: {r.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    return None


@pytest.fixture
def two_hosts():
    """Two network namespaces, each reached from here over its own veth pair."""
    _needs(_netns_available())
    tag = os.getpid() % 10000
    hosts, cmds = [], []
    try:
        for i in (1, 2):
            ns, here, there = f"papy{tag}h{i}", f"pp{tag}a{i}", f"pp{tag}b{i}"
            net = f"10.231.{(tag % 100) * 2 + i}"
            hosts.append((ns, f"{net}.2"))
            cmds.append(["ip", "netns", "del", ns])
            for cmd in (["ip", "netns", "add", ns],
                        ["ip", "link", "add", here, "type", "veth", "peer", "name", there],
                        ["ip", "link", "set", there, "netns", ns],
                        ["ip", "addr", "add", f"{net}.1/24", "dev", here],
                        ["ip", "link", "set", here, "up"],
                        ["ip", "netns", "exec", ns, "ip", "addr", "add", f"{net}.2/24", "dev",
                         there],
                        ["ip", "netns", "exec", ns, "ip", "link", "set", there, "up"],
                        ["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"]):
                subprocess.run(cmd, check=True, capture_output=True, timeout=10)
        yield hosts
    finally:
        for cmd in cmds:
            subprocess.run(cmd, capture_output=True, timeout=10)


@pytest.mark.timeout(40)
def test_two_hosts_in_network_namespaces(servers, two_hosts):
    env = {"PAPY_WORKER_TOKEN": "ns-token"}
    srv = [servers(host=ip, env=env, prefix=("ip", "netns", "exec", ns), name=ns, wait=False)
           for ns, ip in two_hosts]
    for s in srv:
        s.wait_ready()
    remote.set_credentials(token="ns-token")

    def where(x):
        import os
        import time
        time.sleep(0.002)
        return os.getpid()
    with IMap(where, range(200), worker_num=0,
              worker_remote=[(s.address, 1) for s in srv]) as m:
        m.start()
        per_host = [{k.pid for k in s.children()} for s in srv]
        pids = set(m)
    assert all(p & pids for p in per_host), (pids, per_host)   # both hosts served items
    for s in srv:
        assert "authenticated (token)" in s.logtext()


@pytest.mark.timeout(60)
def test_papy_run_with_workers(servers, tmp_path):
    s = servers()
    r = subprocess.run([PAPY, "run", str(ROOT / "examples" / "where.py"), "--quiet",
                        "--workers", f"{s.address}#2"], capture_output=True, text=True,
                       timeout=50, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if ln.startswith("item")]
    assert len(lines) == 12
    assert wait_until(lambda: s.logtext().count("authenticated") >= 4, 5), s.logtext()
