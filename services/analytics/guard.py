"""Checks a custom query with a real SQL parser (sqlglot), never by keyword matching.

Accepted: exactly one statement, a query (SELECT, WITH ... SELECT, UNION/INTERSECT/EXCEPT of them) that
reads only the lake's tables and views (or its own CTEs), calls no table function and no function the
parser does not know (DuckDB's read_csv, glob, query, current_setting, ... are all unknown or refused), and
has no DDL/DML anywhere inside. The accepted query gets a row limit (max_rows + 1, to tell truncation).

Nor may it make data out of nothing: generators (range, generate_series, ... as scalar or table functions),
recursive CTEs and format() are refused, and repeat/lpad/rpad/space only take a small literal length. Their
output is not in DuckDB's memory accounting: `unnest(range(1e9))` grew the process to 20 GB and ignored the
time limit, since the interrupt is only checked between chunks. The engine still bounds time, memory and
result size of whatever passes (see duckdb_engine).
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

# Functions that generate rows or values from a count rather than from the lake's data.
_GENERATORS = {
    "GenerateSeries",  # generate_series() and range()
    "ExplodingGenerateSeries",
    "GenerateDateArray",
    "GenerateTimestampArray",
    "Generator",
    "GenerateTable",
    "GapFill",
    "RangeN",
    "Format",  # format('{:>1000000000}', x) pads to any width
}

# Functions whose output length is an argument: (position of the length argument, largest literal allowed).
MAX_GENERATED_LENGTH = 10_000
_SIZED = {"Repeat": "times", "Pad": "expression", "Space": "this"}


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
        _check_generators(node)
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


def _check_generators(node: exp.Expr) -> None:
    name = type(node).__name__
    label = "RANGE/GENERATE_SERIES" if name == "GenerateSeries" else node.key.upper()
    if isinstance(node, exp.Func) and name != "GenerateSeries":
        label = node.sql_name()
    if name in _GENERATORS:
        raise QueryRefused(f"{label}() is not allowed: it generates data instead of reading the lake")
    if isinstance(node, exp.With) and node.args.get("recursive"):
        raise QueryRefused("WITH RECURSIVE is not allowed: it can generate rows without end")
    if name in _SIZED:
        length = node.args.get(_SIZED[name])
        small = isinstance(length, exp.Literal) and length.is_int and int(length.this) <= MAX_GENERATED_LENGTH
        # The repeated value must be a plain value too: repeat(repeat(...)) or repeat(string_agg(...)) multiplies.
        plain = name == "Space" or isinstance(node.this, exp.Literal | exp.Column)
        if not (small and plain):
            raise QueryRefused(
                f"{label}() is only allowed on a column or literal with a literal length of at most "
                f"{MAX_GENERATED_LENGTH}"
            )


def _limited(query: exp.Query, max_rows: int) -> exp.Query:
    current = query.args.get("limit")
    value = current.expression if isinstance(current, exp.Limit) else None
    if isinstance(value, exp.Literal) and value.is_int and int(value.this) <= max_rows:
        return query
    return query.limit(max_rows + 1)
