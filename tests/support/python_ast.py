"""``ast.parse`` for the tests that scan sloprobe's own source, safe from a CPython 3.11 bug.

In CPython 3.11 (gh-106905, fixed in 3.12), ``ast.parse`` can fail with ``SystemError: AST
constructor recursion depth mismatch`` when called at another stack depth than an earlier
parse in the same process — which a long test session does. The tree is then parsed in a
fresh interpreter and sent back pickled (AST nodes pickle).
"""

from __future__ import annotations

import ast
import pickle
import subprocess
import sys

_CHILD = (
    "import ast, pickle, sys; sys.stdout.buffer.write(pickle.dumps(ast.parse(sys.stdin.read())))"
)


def parse(source: str) -> ast.Module:
    try:
        return ast.parse(source)
    except SystemError:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD], input=source.encode(), capture_output=True, check=True
        )
        tree = pickle.loads(done.stdout)  # our own child's output, from our own source text
        assert isinstance(tree, ast.Module)
        return tree
