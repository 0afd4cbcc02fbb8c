"""A correct port that insists on the scaling family it is sent.

Runner protocol 3 carries the family and its parameters with every
request; ``expects_yarn`` raises unless they are YaRN with factor 4 and an
original context of 4096, so tests/test_python_runner.c can tell that the
family really arrives (and that without ``--scaling`` none is sent).
"""
from ropepkg.rope import apply


def expects_yarn(x, positions, *, theta, layout, direction, out_scale, spec):
    sc = spec["scaling"]
    if sc["family"] != "yarn" or sc["factor"] != 4.0 or sc["original_context"] != 4096:
        raise ValueError("expected yarn factor 4 original 4096, got %s factor %r original %r"
                         % (sc["family"], sc["factor"], sc["original_context"]))
    return apply(x, positions, theta=theta, layout=layout, direction=direction,
                 out_scale=out_scale, spec=spec)


expects_yarn.ropecheck_caps = {"dtypes": ["f32", "f16"]}
