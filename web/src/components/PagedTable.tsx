// One page of a server-side list, the same way on every tab: its error, its first load, an empty message, the
// table (dimmed while the next page loads, keeping the rows on screen) and the pager under it.
import type { ReactNode } from "react";
import type { Page } from "../api/types";
import type { Async } from "../lib/hooks";
import { Empty, ErrorState, Loading, Pagination } from "./ui";

export function PagedTable<T>({
  page,
  what,
  whatLoading,
  empty,
  label,
  head,
  row,
  skip,
  limit,
  onSkip,
}: {
  page: Async<Page<T>>;
  /** What failed to load, with its article ("los clientes"). */
  what: string;
  /** What is loading ("clientes"). */
  whatLoading: string;
  empty: ReactNode;
  label: string;
  /** The header row's cells. */
  head: ReactNode;
  row: (item: T) => ReactNode;
  skip: number;
  limit: number;
  onSkip: (skip: number) => void;
}) {
  return (
    <>
      {page.error ? <ErrorState error={page.error} onRetry={page.reload} what={what} /> : null}
      {page.loading && !page.data ? <Loading what={whatLoading} /> : null}
      {page.data ? (
        page.data.items.length === 0 ? (
          <Empty>{empty}</Empty>
        ) : (
          <>
            <div className={`table-wrap ${page.loading ? "is-loading" : ""}`}>
              <table className="table" aria-label={label}>
                <thead>
                  <tr>{head}</tr>
                </thead>
                <tbody>{page.data.items.map(row)}</tbody>
              </table>
            </div>
            <Pagination
              skip={skip}
              limit={limit}
              total={page.data.total}
              count={page.data.items.length}
              onChange={onSkip}
            />
          </>
        )
      ) : null}
    </>
  );
}
