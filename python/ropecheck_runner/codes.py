"""The numbers the runner protocol carries, named.

Every value here mirrors a definition in the C headers (the contract):
include/ropecheck/rope.h (rc_dtype, rc_layout, rc_direction, rc_status,
rc_scaling_type), include/ropecheck/plugin.h (RC_CAP_*) and
runner/protocol.h (frame types, limits). tests/python checks them against
those headers, so a renumbering there cannot silently desynchronise us.
"""

# runner/protocol.h
MAGIC = 0x50524352  # the bytes "RCRP" in memory
VERSION = 4  # the version this runner speaks (HELLO announces it)
HELLO, APPLY, RESULT = 1, 2, 3
HEADER_BYTES = 16
FLAG_INPUT_CHANGED = 1
MAX_PAYLOAD = 1 << 36
MAX_STRING = 4096

# rope.h: rc_dtype. Index = wire value.
DTYPE_NAMES = ("f32", "f64", "f16", "bf16")
DTYPE_SIZES = (4, 8, 2, 2)
F32, F64, F16, BF16 = 0, 1, 2, 3

# rope.h: rc_layout.
LAYOUT_NAMES = ("interleaved", "half")
INTERLEAVED, HALF = 0, 1

# rope.h: rc_direction.
DIRECTION_NAMES = ("forward", "inverse")
FORWARD, INVERSE = 0, 1

# rope.h: rc_status.
OK = 0
ERR_UNSUPPORTED = 1  # valid request this implementation does not do
ERR_INVALID = 2  # malformed spec or tensor (and refused requests)
ERR_NOMEM = 3
ERR_DEVICE = 4
ERR_INTERNAL = 5  # anything else: here, an exception in the user's code

# rope.h: rc_scaling_type, named as ropecheck's --scaling option names them
# (core/names.c), so a user sees the same word on both sides.
SCALING_NAMES = ("none", "linear", "ntk", "dynamic", "yarn", "llama3",
                 "longrope", "table")

# rope.h: RC_MAX_HEAD_DIM, RC_MAX_POSITION.
MAX_HEAD_DIM = 1024
MAX_POSITION = (1 << 53) - 1

# plugin.h: RC_CAP_*.
CAP_F32 = 1 << 0
CAP_F64 = 1 << 1
CAP_F16 = 1 << 2
CAP_BF16 = 1 << 3
CAP_INTERLEAVED = 1 << 8
CAP_HALF = 1 << 9
CAP_INVERSE = 1 << 16
CAP_PARTIAL_ROTARY = 1 << 17
CAP_INPLACE = 1 << 18
CAP_STRIDED = 1 << 19
CAP_SCALING = 1 << 20
CAP_MULTI_AXIS = 1 << 21  # ABI 4, protocol 4: offered when a function declares multi_axis=True
MAX_AXES = 4  # rope.h: RC_MAX_AXES

# harness/runner_client.h: RC_RUNNER_MAX_IMPLS; harness/runner_decode.h's
# name buffer (64 bytes with the NUL).
MAX_IMPLS = 8
MAX_NAME = 63
# plugin.h: RC_DESCRIPTION_MAX; the host keeps 255 bytes of a reason.
MAX_DESCRIPTION = 200
MAX_WHY = 255


def dtype_cap(dtype: int) -> int:
    """plugin.h's rc_cap_for_dtype."""
    return 1 << dtype


def layout_cap(layout: int) -> int:
    """plugin.h's rc_cap_for_layout."""
    return 1 << (8 + layout)
