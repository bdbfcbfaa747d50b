"""Finding the source text of a lambda, so that the writer can turn it into a ``def``.

``inspect`` gives the lines a lambda was defined on, not the lambda itself:
a line may hold several lambdas, or one spread over several lines.  The
candidates on the first line are parsed and compared with the function's
code object.
"""
from __future__ import annotations

import ast
import inspect
import io
import re
import tokenize

__all__ = ["lambda_node"]


def lambda_node(func) -> tuple[ast.Lambda, str]:
    """The ``ast.Lambda`` of ``func`` and the text it was parsed from."""
    lines, start = inspect.findsource(func)
    first = func.__code__.co_firstlineno - 1
    text = "".join(lines[first:first + 60])
    candidates: list[tuple[ast.Lambda, str]] = []
    for match in re.finditer(r"\blambda\b", lines[first]):
        expr = _expression_at(text[match.start():])
        try:
            node = ast.parse(expr.strip(), mode="eval").body
        except SyntaxError:
            continue
        if isinstance(node, ast.Lambda):
            candidates.append((node, expr.strip()))
    want = func.__code__
    for node, expr in candidates:
        code = compile(ast.Expression(node), "<lambda>", "eval")
        inner = next((c for c in code.co_consts if inspect.iscode(c)), None)
        if inner is not None and inner.co_code == want.co_code \
                and inner.co_varnames == want.co_varnames and inner.co_names == want.co_names:
            return node, expr
    argnames = want.co_varnames[:want.co_argcount]
    for node, expr in candidates:
        if tuple(a.arg for a in node.args.args) == argnames:
            return node, expr
    raise OSError("lambda not found in its source line")


def _expression_at(text: str) -> str:
    """The text of the expression starting ``text``, up to a ``,``/closing bracket at depth 0."""
    depth, end, params = 0, None, False
    lines = text.splitlines(True)
    offsets = [0]
    for ln in lines:
        offsets.append(offsets[-1] + len(ln))
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            pos = offsets[tok.start[0] - 1] + tok.start[1]
            if depth == 0 and tok.type == tokenize.NAME and tok.string == "lambda":
                params = True  # commas of the parameter list are part of the lambda
            elif depth == 0 and params and tok.type == tokenize.OP and tok.string == ":":
                params = False
            elif params and tok.type == tokenize.OP and tok.string == ",":
                continue
            elif tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                if depth == 0:
                    end = pos
                    break
                depth -= 1
            elif depth == 0 and (tok.type in (tokenize.NEWLINE, tokenize.ENDMARKER)
                                 or (tok.type == tokenize.OP and tok.string in (",", ";"))
                                 or (tok.type == tokenize.NAME and tok.string in ("for", "async"))):
                end = pos
                break
    except (tokenize.TokenError, IndentationError):
        pass
    return text[:end] if end is not None else text
