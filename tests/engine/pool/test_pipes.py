"""The worker pipes' reader: the framing of Connection.send_bytes, read into one buffer."""
import multiprocessing
import threading

import pytest

from papy_engine.pool import pipes

pytestmark = [pytest.mark.timeout(60)]


def test_the_reader_reads_what_send_bytes_wrote_small_large_and_huge(monkeypatch):
    monkeypatch.setattr(pipes, "KEEP_BYTES", 256 * 1024)
    r, w = multiprocessing.Pipe(duplex=False)
    sizes = [0, 1, 4, 100, 64 * 1024, 64 * 1024 + 1, 3 * 2**20 + 7, 10, 200 * 1024, 5]
    messages = [bytes([i % 251]) * n for i, n in enumerate(sizes)]

    def write():
        for m in messages:
            w.send_bytes(m)
        w.close()
    t = threading.Thread(target=write)
    t.start()
    reader = pipes.Reader(r)
    try:
        got = []
        for _ in messages:
            with reader.recv() as view:
                got.append(bytes(view))
        assert got == messages
        # the buffer grew for the 200 KiB message, not for the 3 MiB one
        assert 200 * 1024 <= len(reader.buf) < 3 * 2**20
        with pytest.raises(EOFError):
            reader.recv()
    finally:
        t.join(10)
        r.close()


def test_a_message_cut_short_is_an_error_not_a_short_read():
    import os
    import struct
    rfd, wfd = os.pipe()
    os.write(wfd, struct.pack("!i", 100) + b"x" * 10)
    os.close(wfd)

    class Conn:
        def fileno(self):
            return rfd
    try:
        with pytest.raises(EOFError):
            pipes.Reader(Conn()).recv()
    finally:
        os.close(rfd)


def test_the_reader_says_when_a_message_or_the_end_waits():
    r, w = multiprocessing.Pipe(duplex=False)
    reader = pipes.Reader(r)
    try:
        assert not reader.ready()
        w.send_bytes(b"abc")
        assert reader.ready()
        with reader.recv() as view:
            assert bytes(view) == b"abc"
        assert not reader.ready()
        w.close()
        assert reader.ready()   # the end can be read at once: EOFError, not a hang
        with pytest.raises(EOFError):
            reader.recv()
    finally:
        r.close()


def test_the_waiter_reports_what_is_ready_among_the_objects_of_each_call():
    """As multiprocessing.connection.wait: connections and plain descriptors,
    only those of this call, and nothing after the timeout when none is ready."""
    import os
    import time
    a_r, a_w = multiprocessing.Pipe(duplex=False)
    b_r, b_w = multiprocessing.Pipe(duplex=False)
    fd_r, fd_w = os.pipe()
    waiter = pipes.Waiter()
    try:
        t0 = time.monotonic()
        assert waiter.wait([a_r, b_r, fd_r], 0.05) == []
        assert time.monotonic() - t0 >= 0.04
        b_w.send_bytes(b"x")
        os.write(fd_w, b"y")
        assert sorted(map(id, waiter.wait([a_r, b_r, fd_r], 5))) == sorted(map(id, [b_r, fd_r]))
        assert waiter.wait([a_r, fd_r], 5) == [fd_r]   # b_r left the set: not reported
        a_w.send_bytes(b"z")
        assert sorted(map(id, waiter.wait([a_r, b_r], 5))) == sorted(map(id, [a_r, b_r]))
        a_r.recv_bytes(), b_r.recv_bytes()
        a_w.close()
        assert waiter.wait([a_r], None) == [a_r]          # a closed writer wakes the reader
    finally:
        for c in (a_r, b_r, b_w):
            c.close()
        os.close(fd_r)
        os.close(fd_w)


def test_messages_gives_every_whole_message_the_pipe_holds_from_one_read(monkeypatch):
    """Three replies waiting cost one read; a message cut in two (its second
    half still being written) is completed, not split or dropped."""
    import os
    r, w = multiprocessing.Pipe(duplex=False)
    reads = []
    real_readv = os.readv

    def counting_readv(fd, buffers):
        n = real_readv(fd, buffers)
        reads.append(n)
        return n
    monkeypatch.setattr(pipes.os, "readv", counting_readv)
    reader = pipes.Reader(r)
    try:
        sent = [b"a" * 10, b"b" * 20_000, b"c" * 3]
        for m in sent:
            pipes.send_bytes(w, m)
        got = [bytes(v) for v in reader.messages()]
        assert got == sent and len(reads) == 1

        # a message larger than the reader's buffer: read in several parts
        big = bytes(range(256)) * 1024   # 256 KiB
        writer = threading.Thread(target=pipes.send_bytes, args=(w, big))
        writer.start()
        got = [bytes(v) for v in reader.messages()]
        writer.join(10)
        assert got == [big]
        assert not reader.ready()
        w.close()
        with pytest.raises(EOFError, match="closed"):
            list(reader.messages())
    finally:
        r.close()


def test_send_bytes_writes_the_header_and_the_data_in_one_system_call(monkeypatch):
    """Connection.send_bytes writes a message over 16 KiB in two writes, which
    wakes the reader twice; ours is one, and Connection reads it back."""
    import os
    r, w = multiprocessing.Pipe(duplex=False)
    calls = []
    real_writev = os.writev

    def counting_writev(fd, buffers):
        calls.append(sum(len(b) for b in buffers))
        return real_writev(fd, buffers)
    monkeypatch.setattr(pipes.os, "writev", counting_writev)
    try:
        data = b"x" * 40_000
        pipes.send_bytes(w, data)
        assert calls == [4 + len(data)]
        assert r.recv_bytes() == data
        pipes.send_bytes(w, b"")
        assert r.recv_bytes() == b""
    finally:
        r.close()
        w.close()
