"""schemathesis hooks for .ci/schemathesis.

`sealed` values are age payloads that `rune seal` encrypted for this very server, namespace,
name and key (SPEC §6): no generator can produce one, and the server rightly refuses anything
else (400). Generated bodies therefore leave `sealed` empty; tests/sealed.rs covers sealed
values with real payloads.

runed *runs* the `process:` services it accepts. Generated ones would start random commands,
as root on CI, at scales up to 1000 (hundreds of instances exhaust the machine). Their valid
values are therefore defused before they are sent: a string `command` becomes `/bin/true` and a
valid `scale` above 2 becomes 2. Both stay valid (only valid values are touched), so a
generated invalid body stays invalid.

Some of the rules runed shares with `rune lint` (issue #12) are not expressible in JSON Schema:
the same object twice in one batch, two mounts of one service with the same name, mount paths
that are equal or nested, more than 256 mounts in `secretMounts` and `configMounts` together.
The schema states them in its descriptions; bodies that break them are not generated as
"valid" (runed refuses them with 400, and tests/validation.rs covers that).
"""

import schemathesis


# runed reads a kind in any case, singular or plural.
_KINDS = {
    "namespaces": "namespace",
    "secrets": "secret",
    "configmaps": "configmap",
    "services": "service",
    "storageclasses": "storageclass",
    "volumes": "volume",
}


def _key(obj):
    kind = str(obj.get("kind", "")).lower()
    return (_KINDS.get(kind, kind), obj.get("namespace") or "", obj.get("name"))


def _mounts_conflict(obj):
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return False
    mounts = []
    for field in ("secretMounts", "configMounts"):
        items = spec.get(field)
        if isinstance(items, list):
            mounts.extend(m for m in items if isinstance(m, dict))
    if len(mounts) > 256:
        return True
    names = [m.get("name") for m in mounts]
    if len(names) != len(set(map(str, names))):
        return True
    paths = [m.get("mountPath") for m in mounts if isinstance(m.get("mountPath"), str)]
    for i, a in enumerate(paths):
        for b in paths[i + 1:]:
            if a == b or b.startswith(a + "/") or a.startswith(b + "/"):
                return True
    return False


def _beyond_schema(body):
    objects = _objects(body)
    keys = [_key(o) for o in objects]
    if len(keys) != len(set(map(repr, keys))):
        return True
    return any(_mounts_conflict(o) for o in objects)


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
    return not any(_has_sealed(o) for o in _objects(body)) and not _beyond_schema(body)


@schemathesis.hook
def filter_case(context, case):
    # The coverage phase builds its cases without `filter_body`.
    body = case.body
    return not any(_has_sealed(o) for o in _objects(body)) and not _beyond_schema(body)


SAFE_COMMAND = "/bin/true"
MAX_SCALE = 2
# The schema's (and runed's) bound: a larger scale is invalid and must stay so.
SCHEMA_MAX_SCALE = 1000


def _defuse(obj):
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    scale = spec.get("scale")
    integral = (isinstance(scale, int) and not isinstance(scale, bool)) or (
        isinstance(scale, float) and scale.is_integer()
    )
    if integral and MAX_SCALE < scale <= SCHEMA_MAX_SCALE:
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
