"""schemathesis hooks for .ci/schemathesis.

`sealed` values are age payloads that `rune seal` encrypted for this very server, namespace,
name and key (SPEC §6): no generator can produce one, and the server rightly refuses anything
else (400). Generated bodies therefore leave `sealed` empty; tests/sealed.rs covers sealed
values with real payloads.

runed *runs* the `process:` services it accepts. Generated ones would start random commands,
as root on CI, at scales up to 2^32-1 (thousands of instances exhaust the machine). Their valid
values are therefore defused before they are sent: a string `command` becomes `/bin/true` and a
valid `scale` above 2 becomes 2. Both stay valid (only valid values are touched), so a
generated invalid body stays invalid.
"""

import schemathesis


def _objects(body):
    if not isinstance(body, dict):
        return []
    objects = body.get("objects")
    if isinstance(objects, list):
        return [o for o in objects if isinstance(o, dict)]
    return [body]


def _has_sealed(obj):
    spec = obj.get("spec")
    return isinstance(spec, dict) and isinstance(spec.get("sealed"), dict) and bool(spec["sealed"])


@schemathesis.hook
def filter_body(context, body):
    return not any(_has_sealed(o) for o in _objects(body))


@schemathesis.hook
def filter_case(context, case):
    # The coverage phase builds its cases without `filter_body`.
    return not any(_has_sealed(o) for o in _objects(case.body))


SAFE_COMMAND = "/bin/true"
MAX_SCALE = 2
U32_MAX = 4294967295


def _defuse(obj):
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    scale = spec.get("scale")
    integral = (isinstance(scale, int) and not isinstance(scale, bool)) or (
        isinstance(scale, float) and scale.is_integer()
    )
    if integral and MAX_SCALE < scale <= U32_MAX:
        spec["scale"] = MAX_SCALE
    process = spec.get("process")
    if isinstance(process, dict) and isinstance(process.get("command"), str):
        process["command"] = SAFE_COMMAND


@schemathesis.hook
def map_body(context, body):
    for obj in _objects(body):
        _defuse(obj)
    return body


@schemathesis.hook
def map_case(context, case):
    for obj in _objects(case.body):
        _defuse(obj)
    return case
