"""Checks a custom query with a real SQL parser (sqlglot), never by keyword matching.

Accepted: exactly one statement, a query (SELECT, WITH ... SELECT, UNION/INTERSECT/EXCEPT of them) that
reads only the lake's tables and views (or its own CTEs), calls no table function and no function the
parser does not know (DuckDB's read_csv, glob, query, current_setting, ... are all unknown or refused), and
has no DDL/DML anywhere inside. The accepted query gets a row limit (max_rows + 1, to tell truncation).
"""

import logging

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, ParseError
from sqlglot.optimizer.scope import traverse_scope

from services.analytics.errors import QueryRefused

logging.getLogger("sqlglot").setLevel(logging.ERROR)  # it warns on every unsupported statement

_FORBIDDEN_NODES: tuple[type[exp.Expression], ...] = tuple(
    getattr(exp, name)
    for name in (
        "Insert",
        "Update",
        "Delete",
        "Merge",
        "Create",
        "Drop",
        "Alter",
        "TruncateTable",
        "Copy",
        "Command",
        "Pragma",
        "Set",
        "Attach",
        "Detach",
        "Install",
        "Use",
        "Describe",
        "Show",
        "LoadData",
        "Into",
        "Transaction",
        "Commit",
        "Rollback",
        "Export",
    )
    if hasattr(exp, name)
)

# Functions sqlglot models as their own classes but that read files or the engine's state.
_FORBIDDEN_FUNCTIONS = {"ReadCSV", "ReadParquet", "ReadJSON", "ReadText", "ReadBlob"}


def check_query(sql: str, *, dialect: str, tables: frozenset[str], max_rows: int) -> str:
    """The query, limited, in `dialect`; raises QueryRefused with the reason."""
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        raise QueryRefused(f"not valid SQL: {str(exc).splitlines()[0]}") from None
    if len(statements) != 1:
        raise QueryRefused(f"exactly one statement is allowed, got {len(statements)}")
    query = statements[0]
    if not isinstance(query, exp.Query):
        raise QueryRefused(f"only SELECT queries are allowed, got {query.key.upper()}")
    for node in query.walk():
        _check_node(node)
    _check_sources(query, tables)
    return _limited(query, max_rows).sql(dialect=dialect)


def _check_sources(query: exp.Query, tables: frozenset[str]) -> None:
    """Every table reference is one of ours, or a CTE visible from ITS scope (a CTE name does not
    make the same name elsewhere in the query safe)."""
    try:
        scopes = traverse_scope(query)
    except OptimizeError as exc:
        raise QueryRefused(f"cannot resolve the query's tables: {exc}") from None
    for scope in scopes:
        for table in scope.tables:
            name = table.name.lower()
            if table.name in scope.cte_sources:
                continue
            if name not in tables:
                raise QueryRefused(f"unknown table {table.name!r}; allowed: {', '.join(sorted(tables))}")


def _check_node(node: exp.Expr) -> None:
    if isinstance(node, _FORBIDDEN_NODES):
        raise QueryRefused(f"{node.key.upper()} is not allowed: read-only SELECT only")
    if isinstance(node, exp.Table):
        if not isinstance(node.this, exp.Identifier):
            raise QueryRefused("table functions and file paths are not allowed; query the lake views")
        if node.args.get("db") or node.args.get("catalog"):
            raise QueryRefused(f"qualified names are not allowed: {node.sql()}")
    if isinstance(node, exp.Anonymous):
        raise QueryRefused(f"function {node.name}() is not allowed")
    if type(node).__name__ in _FORBIDDEN_FUNCTIONS:
        raise QueryRefused(f"{node.key.upper()}() is not allowed: no file access")


def _limited(query: exp.Query, max_rows: int) -> exp.Query:
    current = query.args.get("limit")
    value = current.expression if isinstance(current, exp.Limit) else None
    if isinstance(value, exp.Literal) and value.is_int and int(value.this) <= max_rows:
        return query
    return query.limit(max_rows + 1)
