"""One registry for every named component (channels, models, datasets, metrics), as kaira does.

`@register("channel", "awgn")` on a class; `build("channel", "awgn", **kw)` to make one. The names of
channels and their parameters match the TypeScript simulators in packages/semantic-codec.
"""

_REGISTRY: dict[str, dict[str, object]] = {}


def register(kind: str, name: str):
    """Class/function decorator: file `obj` under (kind, name)."""

    def deco(obj):
        _REGISTRY.setdefault(kind, {})[name] = obj
        return obj

    return deco


def get(kind: str, name: str):
    """The object filed under (kind, name); KeyError names what exists."""
    try:
        return _REGISTRY[kind][name]
    except KeyError:
        raise KeyError(f"no {kind} named {name!r}; have {sorted(_REGISTRY.get(kind, {}))}") from None


def build(kind: str, name: str, **kwargs):
    """Instantiate the class filed under (kind, name)."""
    return get(kind, name)(**kwargs)


def names(kind: str) -> list[str]:
    return sorted(_REGISTRY.get(kind, {}))
