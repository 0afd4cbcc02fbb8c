"""The serve loop: HELLO, then one RESULT per APPLY until the host closes
our input (exit 0). Malformed framing ends the runner with one line on
stderr and status 2, as runner/PROTOCOL.md requires; a failure of the
user's function never does: it becomes a status and a one-line reason in
that request's RESULT, and the loop goes on with the next request.

Streams are passed in (binary, with readinto/write/flush), so the tests
run the loop over io.BytesIO; the CLI passes the real stdin/stdout after
moving file descriptor 1 away from the user's code (see __main__.py).
"""

import contextlib
import sys
import traceback
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Sequence, TextIO

from . import PROG, adapters, codes, one_line, protocol, request, tensors


@dataclass
class Implementation:
    """One offered implementation: a name on the wire and a function."""
    name: str
    fn: Callable
    caps: int
    description: str
    available: bool = True
    why: str = ""
    signature: Optional[object] = None  # signatures.Signature; None: plain


class Server:
    """Answers requests for a fixed list of implementations in one mode."""

    def __init__(self, impls: Sequence[Implementation], mode, arch: str,
                 log: Optional[TextIO] = None):
        self.impls: Dict[str, Implementation] = {i.name: i for i in impls}
        self.mode = mode
        self.arch = arch
        self.log = log if log is not None else sys.stderr
        self._told = set()  # implementations whose first traceback was shown

    def hello(self) -> bytes:
        return protocol.encode_hello(self.arch, [
            protocol.Offer(i.name, i.description, i.caps, i.available, i.why)
            for i in self.impls.values()])

    def answer(self, item) -> bytes:
        """The RESULT frame for a decoded request (or a Refused one)."""
        if isinstance(item, protocol.Refused):
            return protocol.encode_result(codes.ERR_INVALID, message=str(item))
        why = request.check_values(item)
        if why:
            return protocol.encode_result(codes.ERR_INVALID, message=why)
        impl = self.impls[item.head.name]  # decode_apply checked the name
        if not impl.available:
            return protocol.encode_result(codes.ERR_UNSUPPORTED,
                                          message="unavailable here: " + impl.why)
        why = (adapters.unsupported_reason(impl.caps, item, self.mode.bf16_note)
               or (impl.signature.refuses(item) if impl.signature else None))
        if why:
            return protocol.encode_result(codes.ERR_UNSUPPORTED, message=why)
        try:
            return self._run(impl, item)
        except MemoryError:
            return protocol.encode_result(codes.ERR_NOMEM,
                                          message="the runner ran out of memory")

    def _run(self, impl: Implementation, req: request.ApplyRequest) -> bytes:
        h, mode = req.head, self.mode
        shape = (h.n_tokens, h.n_heads, h.head_dim)
        x = tensors.gather(req.input, h.dtype, shape, h.in_strides)
        x_user = None
        try:
            x_user = mode.to_user(x, h.dtype)
            # The user's print() goes to stderr: stdout carries frames.
            with contextlib.redirect_stdout(self.log):
                call = impl.signature.call if impl.signature else adapters.call_plain
                y, table = call(impl.fn, mode, req, x_user)
                y = mode.to_wire(y, h.dtype)
                adapters.check_y(y, req)
                table = None if table is None else adapters.table_bytes(table, req)
        except Exception as exc:
            status = (codes.ERR_UNSUPPORTED if isinstance(exc, adapters.Unsupported)
                      else codes.ERR_INTERNAL if isinstance(exc, adapters.ResultError)
                      else mode.status_for(exc))
            if status != codes.ERR_UNSUPPORTED:
                self._tell(impl, exc)
            changed = self._written_input(req, x, x_user)
            # Nothing was written to the output; but a write into the
            # input is reported, with the output as it came (runner.c).
            why = one_line(exc)
            if isinstance(exc, adapters.Unsupported):  # the reason alone, no class name
                why = why.partition(": ")[2] or "unsupported"
            return protocol.encode_result(
                status, out=None if changed is None else req.output,
                changed_input=changed, message=why)
        strides = h.in_strides if h.inplace else h.out_strides
        out = bytearray(req.input if h.inplace else req.output)
        tensors.scatter(out, h.dtype, shape, strides, y)
        return protocol.encode_result(codes.OK, out=out,
                                      changed_input=self._written_input(req, x, x_user),
                                      table=table)

    def _written_input(self, req, x, x_user) -> Optional[bytearray]:
        """Out of place, a function must leave its input alone (plugin.h).
        If it wrote into x, the input extent with those writes, so the
        host reports them as it would for an in-process port; else None."""
        if req.head.inplace or x_user is None:
            return None
        try:
            after = self.mode.wire_bits(x_user, req.head.dtype)
            if after.shape == x.shape and after.tobytes() == x.tobytes():
                return None
            buf = bytearray(req.input)
            tensors.scatter(buf, req.head.dtype, x.shape, req.head.in_strides, after)
            return buf
        except Exception:  # reshaped or replaced: nothing we can map back
            return None

    def _tell(self, impl: Implementation, exc: BaseException) -> None:
        """The first failure of each implementation gets its traceback on
        stderr (the host's result carries only one line); the rest would
        repeat it for every case."""
        if impl.name in self._told:
            return
        self._told.add(impl.name)
        print("%s: %s raised %s (traceback below; later failures are reported in the "
              "results only)" % (PROG, impl.name, one_line(exc)), file=self.log)
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=self.log)
        self.log.flush()


def serve(server: Server, instream, outstream) -> int:
    """Runs the session; returns the exit status (0: the host closed our
    input; 2: malformed input or a broken pipe, said in one line)."""
    names = list(server.impls)
    try:
        outstream.write(server.hello())
        outstream.flush()
        while True:
            item = request.read_apply(instream, names)
            if item is None:
                return 0
            outstream.write(server.answer(item))
            outstream.flush()
    except protocol.Malformed as exc:
        print("%s: malformed input: %s" % (PROG, exc), file=server.log)
    except MemoryError:
        print("%s: out of memory for a request" % PROG, file=server.log)
    except OSError as exc:  # the host went away mid-frame (EPIPE), or worse
        print("%s: cannot talk to the host: %s" % (PROG, exc), file=server.log)
    server.log.flush()
    return 2
