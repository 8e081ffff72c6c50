// Dependency-free charts in plain CSS (horizontal bars, columns): they scale with the page and keep text crisp.
// Values are converted to numbers only to size the bars; the labels print the exact value given.
import type { ReactNode } from "react";

export interface BarDatum {
  label: string;
  value: number;
  display?: ReactNode;
  sub?: string;
}

export function HBarChart({
  data,
  title,
  emptyText = "Sin datos.",
}: {
  data: BarDatum[];
  title: string;
  emptyText?: string;
}) {
  const max = Math.max(0, ...data.map((d) => d.value));
  return (
    <figure className="chart hbar" aria-label={title}>
      {data.length === 0 ? <p className="chart-empty">{emptyText}</p> : null}
      <ul>
        {data.map((d) => (
          <li key={d.label + (d.sub ?? "")}>
            <span className="hbar-label" title={d.sub ? `${d.label} · ${d.sub}` : d.label}>
              {d.label}
              {d.sub ? <small>{d.sub}</small> : null}
            </span>
            <span className="hbar-track">
              <span className="hbar-fill" style={{ width: `${max > 0 ? Math.max(1, (d.value / max) * 100) : 0}%` }} />
            </span>
            <span className="hbar-value">{d.display ?? d.value}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

/** One column per point (e.g. a day), values on top when there are few, a handful of axis labels. */
export function ColumnChart({
  data,
  title,
  emptyText = "Sin datos.",
}: {
  data: BarDatum[];
  title: string;
  emptyText?: string;
}) {
  if (data.length === 0) {
    return (
      <figure className="chart" aria-label={title}>
        <p className="chart-empty">{emptyText}</p>
      </figure>
    );
  }
  const max = Math.max(1, ...data.map((d) => d.value));
  const showValues = data.length <= 14;
  // Label at most ~8 columns so the axis stays readable at any count.
  const every = Math.max(1, Math.ceil(data.length / 8));
  return (
    <figure className="chart column" aria-label={title}>
      <div className="cols" role="img" aria-label={title}>
        {data.map((d) => (
          <div
            className="col-slot"
            key={d.label}
            title={`${d.label}: ${typeof d.display === "string" ? d.display : d.value}`}
          >
            {showValues ? <span className="col-value">{d.value.toLocaleString("es-PE")}</span> : null}
            <span className="col-bar" style={{ height: `${(d.value / max) * 100}%` }} />
          </div>
        ))}
      </div>
      <div className="column-axis">
        {data.map((d, i) => (
          <span key={d.label}>{i % every === 0 ? d.label : ""}</span>
        ))}
      </div>
    </figure>
  );
}
