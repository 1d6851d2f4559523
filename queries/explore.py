"""Filtered reads of any explorable table, for the Explore page and its exports.

Identifiers (table, facet, time and search columns) come only from data/dictionary.toml, checked
against it; every value a user chose is a bound parameter. This is the generic sibling of the
named `.sql` files: the filters are the same shape for every table, so one builder serves all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

import queries
from queries import warehouse


@dataclass
class Selection:
    table: str
    facets: dict[str, list[str]] = field(default_factory=dict)
    date_from: date | None = None
    date_to: date | None = None
    search: str = ""


def _spec(table: str) -> dict:
    spec = warehouse.dictionary()["tables"].get(table)
    if not spec or "explore" not in spec:
        raise queries.QueryError(f"{table!r} is not an explorable dataset")
    return spec


def explorable() -> list[str]:
    return [t for t, spec in warehouse.dictionary()["tables"].items() if "explore" in spec]


def facets(table: str) -> list[str]:
    return list(_spec(table)["explore"].get("facets", []))


def time_column(table: str) -> str | None:
    return _spec(table)["explore"].get("time_column")


def searchable(table: str) -> bool:
    return bool(_spec(table)["explore"].get("search"))


def columns(table: str) -> dict[str, tuple[str, str]]:
    return {c: (ty, meaning) for c, (ty, meaning) in _spec(table)["columns"].items()}


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _where(sel: Selection, skip_facet: str | None = None) -> tuple[str, dict]:
    spec = _spec(sel.table)
    known = spec["columns"]
    clauses, params = [], {}
    for i, (column, values) in enumerate(sorted(sel.facets.items())):
        if column == skip_facet or not values:
            continue
        if column not in spec["explore"].get("facets", []) or column not in known:
            raise queries.QueryError(f"{column!r} is not a filter of {sel.table}")
        params[f"f{i}"] = [str(v) for v in values]
        clauses.append(f"list_contains(${'f' + str(i)}, CAST({_q(column)} AS VARCHAR))")
    tcol = spec["explore"].get("time_column")
    if tcol and sel.date_from:
        params["date_from"] = sel.date_from
        clauses.append(f"CAST({_q(tcol)} AS DATE) >= $date_from")
    if tcol and sel.date_to:
        params["date_to"] = sel.date_to
        clauses.append(f"CAST({_q(tcol)} AS DATE) <= $date_to")
    if sel.search.strip():
        params["search"] = sel.search.strip().lower()
        ors = [f"contains(lower(CAST({_q(c)} AS VARCHAR)), $search)" for c in spec["explore"]["search"]]
        clauses.append("(" + " OR ".join(ors) + ")")
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def count(sel: Selection) -> int:
    where, params = _where(sel)
    return int(queries.execute(f"SELECT count(*) AS n FROM {_q(sel.table)}{where}", params)["n"].iloc[0])


def rows(sel: Selection, limit: int, offset: int = 0) -> pd.DataFrame:
    spec = _spec(sel.table)
    where, params = _where(sel)
    order = ", ".join(_order_term(o, spec) for o in spec["explore"].get("order", []))
    cols = ", ".join(_q(c) for c in spec["columns"])
    sql = f"SELECT {cols} FROM {_q(sel.table)}{where}"
    if order:
        sql += f" ORDER BY {order}"
    params |= {"limit": int(limit), "offset": int(offset)}
    return queries.execute(sql + " LIMIT $limit OFFSET $offset", params)


def _order_term(term: str, spec: dict) -> str:
    column, _, direction = term.partition(" ")
    if column not in spec["columns"] or direction not in ("", "ASC", "DESC"):
        raise queries.QueryError(f"bad order {term!r} in data/dictionary.toml")
    return f"{_q(column)} {direction}".strip()


def facet_counts(sel: Selection, column: str, limit: int = 200) -> pd.DataFrame:
    """Values of one facet with their counts under every other filter (the usual faceting)."""
    if column not in facets(sel.table):
        raise queries.QueryError(f"{column!r} is not a filter of {sel.table}")
    where, params = _where(sel, skip_facet=column)
    sql = (
        f"SELECT CAST({_q(column)} AS VARCHAR) AS value, count(*) AS n FROM {_q(sel.table)}{where} "
        "GROUP BY 1 ORDER BY n DESC, value LIMIT $limit"
    )
    return queries.execute(sql, params | {"limit": int(limit)})


def time_bounds(table: str) -> tuple[date | None, date | None]:
    tcol = time_column(table)
    if not tcol:
        return None, None
    frame = queries.execute(
        f"SELECT CAST(min({_q(tcol)}) AS DATE) AS lo, CAST(max({_q(tcol)}) AS DATE) AS hi FROM {_q(table)}", {}
    )
    lo, hi = frame["lo"].iloc[0], frame["hi"].iloc[0]
    return (None if pd.isna(lo) else pd.Timestamp(lo).date(), None if pd.isna(hi) else pd.Timestamp(hi).date())
