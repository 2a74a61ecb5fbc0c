import { formatNumber } from "./format";

// A line chart of one metric across versions, drawn on the server as plain SVG: no script, no
// library, readable without colour (values are printed at each point and listed in the table).

export interface ChartPoint {
  label: string;
  /** null (or non-finite) where the version has no value: the line skips it. */
  value: number | null;
}

const W = 640;
const H = 280;
const M = { left: 72, right: 20, top: 24, bottom: 44 };

/** A step of 1, 2 or 5 times a power of ten giving about `count` intervals over `span`. */
export function niceStep(span: number, count = 4): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  // The slack absorbs binary rounding (0.2 / 4 is 0.05000000000000001).
  const unit = raw / power - 1e-9;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/** Tick values covering [min, max], with nice round steps. */
export function ticks(min: number, max: number): number[] {
  let lo = min;
  let hi = max;
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo);
  const out: number[] = [];
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  for (let i = first; i <= last && out.length < 20; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

const usable = (v: number | null): v is number => v !== null && Number.isFinite(v) && Math.abs(v) < Number.MAX_VALUE;

export function MetricChart(props: { metric: string; points: ChartPoint[] }) {
  const values = props.points.map((p) => p.value).filter(usable);
  const titleId = "chart-title";
  if (values.length === 0) {
    return <p class="muted">No version has a numeric value for {props.metric}.</p>;
  }
  const axis = ticks(Math.min(...values), Math.max(...values));
  const lo = axis[0];
  const hi = axis[axis.length - 1];
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const x = (i: number) => M.left + ((i + 0.5) * plotW) / props.points.length;
  const y = (v: number) => M.top + plotH - ((v - lo) / (hi - lo)) * plotH;
  // One polyline per run of consecutive present values, so a gap shows as a gap.
  const segments: string[][] = [[]];
  props.points.forEach((p, i) => {
    if (usable(p.value)) segments[segments.length - 1].push(`${x(i).toFixed(1)},${y(p.value).toFixed(1)}`);
    else if (segments[segments.length - 1].length > 0) segments.push([]);
  });
  const described = props.points.map((p) => `${p.label}: ${usable(p.value) ? formatNumber(p.value) : "no value"}`).join("; ");
  return (
    <figure>
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} width={W} height={H} role="img" aria-labelledby={titleId} xmlns="http://www.w3.org/2000/svg">
        <title id={titleId}>{`${props.metric} by version: ${described}`}</title>
        {axis.map((t) => (
          <g>
            <line x1={M.left} x2={W - M.right} y1={y(t)} y2={y(t)} stroke="#d5dbe1" stroke-width="1" />
            <text x={M.left - 8} y={y(t) + 4} text-anchor="end" font-size="12" fill="#4d5661">
              {formatNumber(t)}
            </text>
          </g>
        ))}
        <line x1={M.left} x2={M.left} y1={M.top} y2={M.top + plotH} stroke="#8c959f" stroke-width="1" />
        {segments
          .filter((s) => s.length > 1)
          .map((s) => (
            <polyline points={s.join(" ")} fill="none" stroke="#0969da" stroke-width="2.5" />
          ))}
        {props.points.map((p, i) => (
          <g>
            <text x={x(i)} y={H - M.bottom + 20} text-anchor="middle" font-size="13" fill="#1b1f24">
              {p.label}
            </text>
            {usable(p.value) && (
              <>
                <circle cx={x(i)} cy={y(p.value)} r="5" fill="#0969da" stroke="#fff" stroke-width="2" />
                <text x={x(i)} y={y(p.value) - 10} text-anchor="middle" font-size="12" font-weight="600" fill="#1b1f24">
                  {formatNumber(p.value)}
                </text>
              </>
            )}
          </g>
        ))}
        <text x={M.left + plotW / 2} y={H - 6} text-anchor="middle" font-size="12" fill="#4d5661">
          version
        </text>
      </svg>
      <figcaption class="muted">{props.metric} by version (latest value of each version's run)</figcaption>
    </figure>
  );
}
