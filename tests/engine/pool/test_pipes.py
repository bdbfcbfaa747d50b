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
        assert len(reader.buf) == 200 * 1024
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
