"""schemathesis hooks for .ci/schemathesis.

`sealed` values are age payloads that `rune seal` encrypted for this very server, namespace,
name and key (SPEC §6): no generator can produce one, and the server rightly refuses anything
else (400). Generated bodies therefore leave `sealed` empty; tests/sealed.rs covers sealed
values with real payloads.
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
