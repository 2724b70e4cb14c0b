"""Read and edit ``INSTALLED_APPS`` in a settings file through Python's own parser.

A regular expression cannot tell a ``]`` in a comment from the list's end, nor a
commented-out entry from a real one; ``ast`` positions can.
"""

from __future__ import annotations

import ast
import io
import tokenize

__all__ = ["assigns_installed_apps", "installed_entries", "with_installed_app"]

_NAME = "INSTALLED_APPS"


def _targets(node: ast.stmt) -> list[ast.expr]:
    """Return the names a module-level statement assigns to."""
    if isinstance(node, ast.Assign):
        return node.targets
    if isinstance(node, ast.AnnAssign | ast.AugAssign):
        return [node.target]
    return []


def _assignments(tree: ast.Module) -> list[ast.stmt]:
    """Return the module-level statements that assign or extend INSTALLED_APPS, in file order."""
    return [
        node
        for node in tree.body
        if any(isinstance(target, ast.Name) and target.id == _NAME for target in _targets(node))
    ]


def _parse(text: str) -> ast.Module | None:
    """Parse settings text; None if it is not valid Python (the kit then leaves it alone)."""
    try:
        return ast.parse(text)
    except SyntaxError:
        return None


def assigns_installed_apps(text: str) -> bool:
    """Return True if the settings text assigns INSTALLED_APPS at module level (comments and strings don't count)."""
    tree = _parse(text)
    return tree is not None and any(not isinstance(node, ast.AugAssign) for node in _assignments(tree))


def installed_entries(text: str) -> list[str]:
    """Return the string entries of every INSTALLED_APPS list or tuple written in the text, in order."""
    tree = _parse(text)
    if tree is None:
        return []
    entries: list[str] = []
    for node in _assignments(tree):
        value = node.value
        if isinstance(value, ast.List | ast.Tuple):
            entries += [elt.value for elt in value.elts if isinstance(elt, ast.Constant) and isinstance(elt.value, str)]
    return entries


def _names_label(entry: str, label: str) -> bool:
    """Return True if an INSTALLED_APPS entry installs the app whose label is ``label``."""
    module = entry.split(".apps.")[0] if ".apps." in entry else entry
    return module.rpartition(".")[2] == label


def _offset(lines: list[str], lineno: int, col_bytes: int) -> int:
    """Turn an ast position (1-based line, UTF-8 byte column) into an index in the text."""
    line = lines[lineno - 1]
    return sum(len(before) for before in lines[: lineno - 1]) + len(line.encode()[:col_bytes].decode())


def _index(lines: list[str], lineno: int, col: int) -> int:
    """Turn a tokenize position (1-based line, character column) into an index in the text."""
    return sum(len(before) for before in lines[: lineno - 1]) + col


def _has_comma_after(text: str, start: int, end: int) -> bool:
    """Return True if a comma token (not one inside a comment) lies between two indexes of the text."""
    lines = text.splitlines(keepends=True)
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.OP and token.string == ",":
            at = _index(lines, *token.start)
            if start <= at < end:
                return True
    return False


def with_installed_app(text: str, label: str) -> str | None:
    """Return the settings text with ``label`` added to INSTALLED_APPS; None if it is already there.

    Raises ValueError with a one-sentence reason when INSTALLED_APPS is not a list or tuple written out in the file.
    """
    tree = _parse(text)
    if tree is None:
        raise ValueError("the settings file is not valid Python")
    if any(_names_label(entry, label) for entry in installed_entries(text)):
        return None
    plain = [node for node in _assignments(tree) if not isinstance(node, ast.AugAssign)]
    value = plain[-1].value if plain else None
    if not isinstance(value, ast.List | ast.Tuple) or value.end_lineno is None or value.end_col_offset is None:
        raise ValueError("INSTALLED_APPS is not a list or tuple written out in the file")
    lines = text.splitlines(keepends=True)
    close = _offset(lines, value.end_lineno, value.end_col_offset) - 1
    if text[close] not in "])":
        raise ValueError("INSTALLED_APPS is a tuple without brackets")
    comma = ""
    indent = "    "
    if value.elts:
        last = value.elts[-1]
        last_end = _offset(lines, last.end_lineno or 0, last.end_col_offset or 0)
        comma = "" if _has_comma_after(text, last_end, close) else ","
        last_line = lines[(last.lineno or 1) - 1]
        if last.lineno != value.lineno:
            indent = last_line[: len(last_line) - len(last_line.lstrip())]
        text = text[:last_end] + comma + text[last_end:]
        close += len(comma)
    line_start = text.rfind("\n", 0, close) + 1
    own_line = not text[line_start:close].strip()
    entry = f'{indent}"{label}",\n'
    if own_line:
        edited = text[:line_start] + entry + text[line_start:]
    else:
        edited = text[:close] + "\n" + entry + text[close:]
    if not any(entry == label for entry in installed_entries(edited)):
        raise ValueError("the kit could not place the entry safely")
    return edited
