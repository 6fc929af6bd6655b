"""Scenario expressions: a whitelisted subset of Python syntax compiled to vectorized numpy.

An expression is parsed with `ast` and accepted only if every node is on the whitelist:
names (a column of the same row, or `table.column` of a parent row), numbers, strings (to
compare categorical columns with), `+ - * / ** %`, comparisons, `and`/`or`/`not`, and calls
of `where`, `min`, `max`, `clip`, `log`, `exp`, `abs`, `sqrt`. The accepted tree is compiled
into nested closures over numpy arrays: a user's text is never handed to `eval` or `exec`.

Arithmetic that has no value on real rows (a division by zero, the log of a non-positive
number) raises `ExpressionError` naming the operation, so the caller can name the file and
the JSON path the expression came from.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

MAX_LENGTH = 2000  # characters; a scenario expression is a formula, not a program

_BINARY = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply, ast.Pow: np.power}
_COMPARE = {ast.Eq: np.equal, ast.NotEq: np.not_equal, ast.Lt: np.less,
            ast.LtE: np.less_equal, ast.Gt: np.greater, ast.GtE: np.greater_equal}
# name → (fewest arguments, most arguments)
FUNCTIONS = {"where": (3, 3), "min": (2, 16), "max": (2, 16), "clip": (3, 3), "log": (1, 1),
             "exp": (1, 1), "abs": (1, 1), "sqrt": (1, 1)}

Lookup = Callable[[str], np.ndarray]
Node = Callable[[Lookup], np.ndarray]


class ExpressionError(ValueError):
    """An expression that is not allowed, or has no value on the rows it is evaluated on."""


@dataclass(frozen=True)
class Expression:
    """A checked expression: its text, the names it reads, and its compiled evaluator."""

    text: str
    names: frozenset[str]
    _node: Node

    def evaluate(self, lookup: Lookup) -> np.ndarray:
        """The expression's values; `lookup(name)` gives the column `name` at the rows."""
        with np.errstate(all="ignore"):  # domain problems are checked and raised explicitly
            return np.asarray(self._node(lookup))


def parse_expression(text: str) -> Expression:
    """Check `text` against the whitelist and compile it; ExpressionError if not allowed."""
    if not isinstance(text, str) or not text.strip():
        raise ExpressionError("an expression must be a non-empty string")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"an expression is at most {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"not a valid expression: {error.msg}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("not a valid expression: nested too deeply") from None
    names: set[str] = set()
    try:
        node = _compile(tree.body, names)
    except RecursionError:
        raise ExpressionError("not a valid expression: nested too deeply") from None
    return Expression(text, frozenset(names), node)


def _compile(node: ast.AST, names: set[str]) -> Node:
    """One whitelisted node → a closure computing it from the looked-up columns."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float, bool, str):
        value = node.value
        return lambda lookup: np.asarray(value)
    if isinstance(node, ast.Name):
        return _name(node.id, names)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return _name(f"{node.value.id}.{node.attr}", names)
    if isinstance(node, ast.BinOp):
        return _binary(node, names)
    if isinstance(node, ast.UnaryOp):
        return _unary(node, names)
    if isinstance(node, ast.BoolOp):
        parts = [_compile(v, names) for v in node.values]
        combine = np.logical_and if isinstance(node.op, ast.And) else np.logical_or
        return lambda lookup: combine.reduce([_truth(p(lookup)) for p in parts])
    if isinstance(node, ast.Compare):
        return _compare(node, names)
    if isinstance(node, ast.Call):
        return _call(node, names)
    raise ExpressionError(f"{_describe(node)} is not allowed in an expression")


def _name(name: str, names: set[str]) -> Node:
    names.add(name)
    return lambda lookup: lookup(name)


def _binary(node: ast.BinOp, names: set[str]) -> Node:
    left, right = _compile(node.left, names), _compile(node.right, names)
    if isinstance(node.op, ast.Div | ast.Mod):
        operation = np.true_divide if isinstance(node.op, ast.Div) else np.mod
        symbol = "/" if isinstance(node.op, ast.Div) else "%"
        return lambda lookup: _divide(operation, symbol, _number(left(lookup)),
                                      _number(right(lookup)))
    if type(node.op) not in _BINARY:
        raise ExpressionError(f"the operator {_describe(node.op)} is not allowed "
                              "(use + - * / ** %)")
    operation = _BINARY[type(node.op)]
    return lambda lookup: operation(_number(left(lookup)), _number(right(lookup)))


def _divide(operation, symbol: str, numerator: np.ndarray, denominator: np.ndarray):
    zero = np.broadcast_to(denominator == 0, np.broadcast(numerator, denominator).shape)
    if zero.any():
        raise ExpressionError(f"division by zero ({symbol} by a value that is 0 on "
                              f"{int(zero.sum()):,} row(s))")
    return operation(numerator, denominator)


def _unary(node: ast.UnaryOp, names: set[str]) -> Node:
    operand = _compile(node.operand, names)
    if isinstance(node.op, ast.USub):
        return lambda lookup: -_number(operand(lookup))
    if isinstance(node.op, ast.UAdd):
        return lambda lookup: _number(operand(lookup))
    if isinstance(node.op, ast.Not):
        return lambda lookup: np.logical_not(_truth(operand(lookup)))
    raise ExpressionError(f"the operator {_describe(node.op)} is not allowed")


def _compare(node: ast.Compare, names: set[str]) -> Node:
    for op in node.ops:
        if type(op) not in _COMPARE:
            raise ExpressionError(f"the comparison {_describe(op)} is not allowed")
    operands = [_compile(node.left, names)] + [_compile(c, names) for c in node.comparators]
    operations = [_COMPARE[type(op)] for op in node.ops]

    def compare(lookup: Lookup) -> np.ndarray:
        values = [o(lookup) for o in operands]  # a < b < c is (a < b) and (b < c)
        return np.logical_and.reduce([op(a, b) for op, a, b in
                                      zip(operations, values, values[1:], strict=False)])
    return compare


def _call(node: ast.Call, names: set[str]) -> Node:
    name = node.func.id if isinstance(node.func, ast.Name) else None
    if name not in FUNCTIONS:
        shown = name or _describe(node.func)
        raise ExpressionError(f"the function {shown!r} is not allowed (allowed: "
                              f"{', '.join(FUNCTIONS)})")
    if node.keywords:
        raise ExpressionError(f"{name}() takes no keyword arguments")
    low, high = FUNCTIONS[name]
    if not low <= len(node.args) <= high:
        count = str(low) if low == high else f"{low} to {high}"
        raise ExpressionError(f"{name}() takes {count} argument(s), not {len(node.args)}")
    args = [_compile(a, names) for a in node.args]
    function = _FUNCTIONS[name]
    return lambda lookup: function(*[a(lookup) for a in args])


def _log(x):
    x = _number(x)
    if np.any(x <= 0):
        raise ExpressionError("log() of a value that is zero or negative")
    return np.log(x)


def _sqrt(x):
    x = _number(x)
    if np.any(x < 0):
        raise ExpressionError("sqrt() of a negative value")
    return np.sqrt(x)


_FUNCTIONS = {
    "where": lambda c, a, b: np.where(_truth(c), a, b),
    "min": lambda *xs: np.minimum.reduce([_number(x) for x in xs]),
    "max": lambda *xs: np.maximum.reduce([_number(x) for x in xs]),
    "clip": lambda x, lo, hi: np.clip(_number(x), lo, hi),
    "log": _log, "exp": lambda x: np.exp(_number(x)), "abs": lambda x: np.abs(_number(x)),
    "sqrt": _sqrt,
}


def _number(values) -> np.ndarray:
    array = np.asarray(values)
    if array.dtype.kind in "USO":
        raise ExpressionError("arithmetic on text (a categorical column can only be "
                              "compared, e.g. role == 'Student')")
    return array.astype(np.float64) if array.dtype.kind == "b" else array


def _truth(values) -> np.ndarray:
    array = np.asarray(values)
    return array if array.dtype.kind == "b" else _number(array) != 0


def _describe(node: ast.AST) -> str:
    return {"Lambda": "a lambda", "Subscript": "indexing ([])", "IfExp": "if/else (use where)",
            "Call": "a call", "Attribute": "an attribute of something other than a table",
            "FloorDiv": "//", "BitAnd": "&", "BitOr": "|", "BitXor": "^", "LShift": "<<",
            "RShift": ">>", "Invert": "~", "MatMult": "@", "In": "in", "NotIn": "not in",
            "Is": "is", "IsNot": "is not"}.get(type(node).__name__, type(node).__name__)
