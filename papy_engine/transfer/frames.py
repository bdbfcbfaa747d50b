"""Serializers and the frame format of items moved by ``io.dump_item``.

An item is turned into a *frame*: a small header, the serializer's byte
stream and, for ``pickle`` and ``dill``, the item's large binary buffers kept
*out of band* (pickle protocol 5).  Out-of-band buffers are never copied into
the stream: a transport writes them straight from the producer's memory into
the file, shared-memory segment, pipe or socket, so a large ``bytes`` payload
is copied once on each side instead of two or three times.

Layout (all integers little-endian)::

    magic "PAPYITM1" | serializer u8 | 3 pad | nbuf u32 | stream_len u64
    | nbuf x u64 buffer lengths | stream | (pad to 64) buffer 0 | (pad) buffer 1 ...

The top bit of a buffer length says the producer's buffer was read-only
(``bytes``): a reader may then hand back an immutable ``bytes`` object read
straight from a file descriptor, which ``bytes()`` in the rebuilder does not
copy again; writable buffers (numpy arrays, bytearray) are read into a
bytearray the rebuilt object can keep.  Buffers start on 64-byte boundaries
so arrays rebuilt on them are aligned.
The format is self-describing: a frame file can be decoded without its locator.
"""
from __future__ import annotations

import array
import io as _io
import json
import marshal
import pickle
import struct
from collections.abc import Iterator
from typing import Any

__all__ = ["SERIALIZERS", "Frame", "encode", "decode", "check_serializer"]

SERIALIZERS = ("pickle", "marshal", "json", "dill")
_CODES = {name: i for i, name in enumerate(SERIALIZERS)}
_MAGIC = b"PAPYITM1"
_HEAD = struct.Struct("<8sB3xIQ")
_ALIGN = 64
# Buffers smaller than this stay in band: a separate write costs more than a copy.
OOB_MIN = 64 * 1024
_READONLY = 1 << 63


def check_serializer(serializer: Any) -> str:
    """Return ``serializer`` if known, else raise ValueError naming the choices."""
    if serializer not in _CODES:
        raise ValueError(f"unknown serializer {serializer!r}: expected one of "
                         f"{', '.join(repr(s) for s in SERIALIZERS)}")
    return serializer


# -- rebuilders for out-of-band buffers: each copies exactly once ------------

def _rebuild_bytes(buf) -> bytes:
    return bytes(buf)


def _rebuild_bytearray(buf) -> bytearray:
    return bytearray(buf)


def _rebuild_array(typecode: str, buf) -> array.array:
    out = array.array(typecode)
    out.frombytes(buf)
    return out


def _reduce_buffer(obj: Any, oob: bool):
    """Reduce bytes-like objects to out-of-band PickleBuffers (or None)."""
    kind = type(obj)
    if kind is memoryview:
        # Plain pickle cannot pickle a memoryview at all; send its bytes.
        if not oob or obj.nbytes < OOB_MIN or not obj.contiguous:
            return _rebuild_bytes, (obj.tobytes(),)
        return _rebuild_bytes, (pickle.PickleBuffer(obj),)
    if not oob:
        return None
    if kind is _TopBytes:
        obj = obj.data
        kind = type(obj)
    if kind is bytes and len(obj) >= OOB_MIN:
        return _rebuild_bytes, (pickle.PickleBuffer(obj),)
    if kind is bytearray and len(obj) >= OOB_MIN:
        return _rebuild_bytearray, (pickle.PickleBuffer(obj),)
    elif kind is array.array and obj.itemsize * len(obj) >= OOB_MIN:
        return _rebuild_array, (obj.typecode, pickle.PickleBuffer(obj))
    return None


class _TopBytes:
    """Wraps a top-level ``bytes``/``bytearray`` item: the C pickler never
    offers exact bytes or bytearray objects to ``reducer_override`` (they stay
    in band when nested in containers), so the wrapper makes them go out of band."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __reduce__(self):  # only reached when pickled without our reducer
        return type(self.data), (self.data,)


class _Pickler(pickle.Pickler):
    def __init__(self, file, oob: bool, buffer_callback=None) -> None:
        super().__init__(file, protocol=5, buffer_callback=buffer_callback)
        self._oob = oob

    def reducer_override(self, obj):
        rv = _reduce_buffer(obj, self._oob)
        return NotImplemented if rv is None else rv


def _dill_pickler(file, oob: bool, buffer_callback=None):
    import dill

    class _DillPickler(dill.Pickler):
        def reducer_override(self, obj):
            rv = _reduce_buffer(obj, oob)
            return NotImplemented if rv is None else rv

    return _DillPickler(file, protocol=5, buffer_callback=buffer_callback, recurse=True)


class Frame:
    """An encoded item: header, stream and out-of-band buffers, not yet copied."""

    __slots__ = ("head", "stream", "buffers", "offsets", "size")

    def __init__(self, code: int, stream, buffers: list[memoryview]) -> None:
        self.stream = memoryview(stream).cast("B")
        self.buffers = buffers
        lengths = [b.nbytes for b in buffers]
        flagged = [n | (_READONLY if b.readonly else 0) for n, b in zip(lengths, buffers)]
        self.head = (_HEAD.pack(_MAGIC, code, len(buffers), self.stream.nbytes)
                     + struct.pack(f"<{len(lengths)}Q", *flagged))
        pos = len(self.head) + self.stream.nbytes
        offsets = []
        for n in lengths:
            pos = -(-pos // _ALIGN) * _ALIGN
            offsets.append(pos)
            pos += n
        self.offsets = offsets
        self.size = pos

    def chunks(self) -> Iterator[memoryview | bytes]:
        """The frame's bytes in order, padding included, without copying buffers."""
        yield self.head
        yield self.stream
        pos = len(self.head) + self.stream.nbytes
        for off, buf in zip(self.offsets, self.buffers):
            if off > pos:
                yield bytes(off - pos)
            yield buf
            pos = off + buf.nbytes

    def write_into(self, target: memoryview) -> None:
        """Copy the frame into ``target`` (at least ``size`` bytes long)."""
        pos = 0
        for chunk in self.chunks():
            n = len(chunk) if isinstance(chunk, bytes) else chunk.nbytes
            target[pos:pos + n] = chunk
            pos += n

    def release(self) -> None:
        for buf in self.buffers:
            buf.release()
        self.stream.release()


def encode(obj: Any, serializer: str = "pickle", oob: bool = True) -> Frame:
    """Serialize ``obj`` into a :class:`Frame`.

    Raises:
        ValueError: unknown serializer.
        TypeError: the serializer cannot encode ``obj`` (the message says what
            the serializer accepts).
    """
    check_serializer(serializer)
    code = _CODES[serializer]
    buffers: list[memoryview] = []
    if serializer in ("pickle", "dill"):
        sink = _io.BytesIO()
        cb = (lambda pb: buffers.append(pb.raw())) if oob else None
        target = _TopBytes(obj) if oob and type(obj) in (bytes, bytearray) else obj
        pickler = (_Pickler(sink, oob, cb) if serializer == "pickle"
                   else _dill_pickler(sink, oob, cb))
        try:
            pickler.dump(target)
        except Exception as exc:
            raise TypeError(f"serializer {serializer!r} cannot encode an object of type "
                            f"{type(obj).__name__}: {exc}") from exc
        return Frame(code, sink.getbuffer(), buffers)
    if serializer == "marshal":
        try:
            stream = marshal.dumps(obj)
        except ValueError as exc:
            raise TypeError(f"serializer 'marshal' cannot encode an object of type "
                            f"{type(obj).__name__} ({exc}); marshal handles only core "
                            "types (None, bool, int, float, complex, str, bytes, bytearray, "
                            "tuple, list, set, frozenset, dict, code) -- use 'pickle' "
                            "or 'dill'") from exc
        return Frame(code, stream, [])
    try:
        stream = json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise TypeError(f"serializer 'json' cannot encode an object of type "
                        f"{type(obj).__name__} ({exc}); JSON handles dict (str keys), "
                        "list, tuple, str, int, float, bool and None -- use 'pickle', "
                        "'marshal' or 'dill' for other objects") from exc
    return Frame(code, stream, [])


def _layout(read) -> tuple[str, list[tuple[int, int, bool]], int]:
    """Parse a header through ``read(offset, n, readonly)``.

    Returns ``(serializer, parts, total)`` where ``parts`` lists the
    ``(offset, length, readonly)`` of the stream and then of each buffer.
    """
    head = read(0, _HEAD.size, True)
    magic, code, nbuf, stream_len = _HEAD.unpack_from(head, 0)
    if magic != _MAGIC or code >= len(SERIALIZERS):
        raise ValueError("not a PaPy item (bad magic number or serializer code)")
    pos = _HEAD.size + 8 * nbuf
    flagged = struct.unpack_from(f"<{nbuf}Q", read(_HEAD.size, 8 * nbuf, True), 0) \
        if nbuf else ()
    parts = [(pos, stream_len, True)]
    pos += stream_len
    for n in flagged:
        pos = -(-pos // _ALIGN) * _ALIGN
        parts.append((pos, n & ~_READONLY, bool(n & _READONLY)))
        pos += n & ~_READONLY
    return SERIALIZERS[code], parts, pos


def decode(view: memoryview) -> Any:
    """Rebuild the item of the frame in ``view`` (a byte memoryview).

    Objects that keep a reference to an out-of-band buffer (a numpy array)
    keep ``view``'s memory alive; bytes, bytearray and array.array are copied.
    """
    def read(off: int, n: int, readonly: bool):
        if off + n > view.nbytes:
            raise ValueError(f"truncated item: {view.nbytes} bytes, expected at least "
                             f"{off + n}")
        return view[off:off + n]
    return decode_from(read)


def decode_from(read) -> Any:
    """Rebuild an item whose frame is read piecewise by ``read(offset, n, readonly)``.

    ``read`` returns a bytes-like object of exactly ``n`` bytes (or raises);
    for ``readonly=False`` it must be writable if the item may keep it.
    """
    serializer, parts, _ = _layout(read)
    stream = read(parts[0][0], parts[0][1], True)
    buffers = [read(off, n, ro) for off, n, ro in parts[1:]]
    try:
        if serializer == "pickle":
            return pickle.loads(stream, buffers=buffers)
        if serializer == "dill":
            import dill
            return dill.loads(stream, buffers=buffers)
        if serializer == "marshal":
            return marshal.loads(stream)
        return json.loads(str(stream, "utf-8"))
    finally:
        for buf in (stream, *buffers):
            if isinstance(buf, memoryview):
                try:
                    buf.release()
                except BufferError:  # still exported by the rebuilt object
                    pass
