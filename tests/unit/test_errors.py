"""Issue 28: one error tree. Every exception class sloprobe defines is drawn in
``sloprobe.errors``'s docstring, under the parent it really derives from, and so
derives from :class:`~sloprobe.errors.SloprobeError`.

The test imports every module of sloprobe (those needing an optional extra that is
not installed are skipped), collects the ``Exception`` subclasses each defines,
and checks them against the tree drawn in the docstring, line by line.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from types import ModuleType

import pytest

import sloprobe
import sloprobe.errors
from sloprobe.errors import InputError, SloprobeError, TargetError

# Classes not yet joined to the tree (sloprobe/errors.py would mark them "(to join)"): none.
TO_JOIN: set[str] = set()

_TREE_LINE = re.compile(
    r"^(?P<lead>[ |]*(?:\+-- )?)(?P<name>\w+)\s+(?:\((?P<also>[\w.]+)\)\s+)?"
    r"(?P<module>sloprobe(?:\.\w+)*)(?P<to_join>\s+\(to join\))?$"
)


@dataclass(frozen=True)
class Node:
    name: str
    module: str
    parent: Node | None
    also: str | None  # the other base, as drawn: `ValueError`, `httpx.TimeoutException`
    to_join: bool

    @property
    def path(self) -> str:
        return f"{self.module}.{self.name}"


def drawn_tree() -> dict[str, Node]:
    """The tree of ``sloprobe.errors``'s docstring: the block after its ``::``."""
    doc = sloprobe.errors.__doc__ or ""
    block = doc.split("::\n\n", 1)[1].split("\n\n", 1)[0]
    nodes: dict[str, Node] = {}
    stack: list[tuple[int, Node]] = []  # (column of the name, node) of the open branches
    for raw in block.splitlines():
        line = raw.removeprefix("    ")
        match = _TREE_LINE.match(line)
        assert match, f"a line of the tree that does not read as `name (base) module`: {raw!r}"
        column = len(match["lead"])
        while stack and stack[-1][0] >= column:
            stack.pop()
        node = Node(
            match["name"],
            match["module"],
            stack[-1][1] if stack else None,
            match["also"],
            bool(match["to_join"]),
        )
        assert node.path not in nodes, f"{node.path} is drawn twice"
        nodes[node.path] = node
        stack.append((column, node))
    return nodes


def sloprobe_modules() -> tuple[list[ModuleType], dict[str, str]]:
    """Every module of sloprobe, imported; and those skipped, with the extra they lack."""
    modules: list[ModuleType] = []
    skipped: dict[str, str] = {}
    pending = ["sloprobe"]
    while pending:
        name = pending.pop()
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").partition(".")[0]
            if not missing or missing == "sloprobe":
                raise
            skipped[name] = missing  # an optional extra not installed here (redis, sentry_sdk, …)
            continue
        modules.append(module)
        for found in pkgutil.iter_modules(getattr(module, "__path__", ())):
            if found.name != "__main__":  # running it is running the command
                pending.append(f"{name}.{found.name}")
    return modules, skipped


def defined_exceptions(modules: list[ModuleType]) -> dict[str, type[Exception]]:
    found: dict[str, type[Exception]] = {}
    for module in modules:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Exception)
                and value.__module__ == module.__name__
                # A warning category (plugin.items.SLOWarning) is no error: not in the tree.
                and not issubclass(value, Warning)
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def _drawn(base: type) -> str:
    return (
        base.__qualname__ if base.__module__ == "builtins" else f"{base.__module__}.{base.__name__}"
    )


def test_the_walk_sees_the_whole_package() -> None:
    modules, skipped = sloprobe_modules()
    names = {m.__name__ for m in modules} | set(skipped)
    assert {"sloprobe.errors", "sloprobe.cli", "sloprobe.probes.network.fetch"} <= names
    assert not any(name.endswith("__main__") for name in names)
    assert len(names) > 100


def test_every_exception_of_sloprobe_is_in_the_tree_under_sloprobe_error() -> None:
    tree = drawn_tree()
    modules, skipped = sloprobe_modules()
    found = defined_exceptions(modules)

    missing = sorted(set(found) - set(tree))
    assert not missing, f"exception classes not drawn in sloprobe/errors.py's tree: {missing}"

    for path, node in tree.items():
        if node.module in skipped:
            continue  # its module needs an extra not installed here
        cls = found.get(path)
        assert cls is not None, f"{path} is drawn in the tree but not defined there"
        if node.parent is None:
            assert cls is SloprobeError and cls.__bases__ == (Exception,), path
            continue
        parent = found[node.parent.path]
        also = [_drawn(b) for b in cls.__bases__ if b is not parent]
        if path in TO_JOIN:
            assert node.to_join, f"{path} is in TO_JOIN: mark it `(to join)` in the tree"
            assert not issubclass(cls, parent), (
                f"{path} derives from {parent.__name__} now: take it out of TO_JOIN "
                "and its `(to join)` out of the tree"
            )
            continue
        assert not node.to_join, f"{path} is marked `(to join)` but not in TO_JOIN"
        assert parent in cls.__bases__, f"{path} does not derive from {parent.__name__} as drawn"
        assert issubclass(cls, SloprobeError), path
        assert also == ([node.also] if node.also else []), (
            f"{path}: its other bases are {also}, the tree draws {node.also}"
        )


def test_the_other_bases_still_catch_what_they_caught() -> None:
    """``except ValueError`` and ``except httpx.HTTPError`` callers are unchanged."""
    import httpx

    from sloprobe.codec import CodecError
    from sloprobe.config.errors import ConfigError
    from sloprobe.history.errors import HistoryError
    from sloprobe.judge.schedule import BadCron
    from sloprobe.model.thresholds import ThresholdError
    from sloprobe.probes.network.errors import DeadlineExceeded
    from sloprobe.probes.network.fetch import BodyError, parse_json

    for cls in (ThresholdError, CodecError, BadCron, BodyError):
        assert issubclass(cls, ValueError) and issubclass(cls, SloprobeError)
    assert issubclass(ConfigError, InputError) and issubclass(HistoryError, SloprobeError)
    assert issubclass(BodyError, TargetError)

    request = httpx.Request("GET", "https://example.test/")
    late = DeadlineExceeded("no complete answer within 2s", request=request)
    assert isinstance(late, httpx.TimeoutException) and isinstance(late, TargetError)
    assert late.request is request and str(late) == "no complete answer within 2s"
    with pytest.raises(SloprobeError, match="undecodable body") as caught:
        parse_json(b"{")
    assert isinstance(caught.value, ValueError)
