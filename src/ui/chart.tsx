import { formatNumber } from "./format";
import { plottable, type StepPoint } from "./metrics";

// Charts drawn on the server as plain SVG: no script, no library. Every chart has a text
// equivalent beside it (its <title>, and the values in a table or legend), and nothing is written
// inside the plot area where it could cover a line or another label: series are named in an HTML
// legend under the chart, and a bar's value sits in that bar's own column.

/** Series colours (Okabe–Ito, dark enough on white); a series also differs by dash from the 5th on. */
export const SERIES_COLOURS = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#8A6100",
  "#1b1f24",
  "#56B4E9",
  "#7a4e9a",
  "#a0522d",
  "#2f6f3e",
];
export const seriesColour = (i: number) => SERIES_COLOURS[i % SERIES_COLOURS.length]!; // i is a series' index, never negative
export const seriesDash = (i: number) => (i >= 5 ? "6 4" : undefined);

/** A step of 1, 2 or 5 times a power of ten giving about `count` intervals over `span`. */
export function niceStep(span: number, count = 4): number {
  const raw = span / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  // The slack absorbs binary rounding (0.2 / 4 is 0.05000000000000001).
  const unit = raw / power - 1e-9;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

/** Tick values covering [min, max], with nice round steps. */
export function ticks(min: number, max: number, count = 4): number[] {
  let lo = min;
  let hi = max;
  if (lo === hi) {
    const pad = Math.abs(lo) * 0.1 || 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, count);
  const out: number[] = [];
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  for (let i = first; i <= last && out.length < 20; i++) out.push(Number((i * step).toPrecision(12)));
  return out;
}

/** Ticks of a step axis: whole steps only. */
export function stepTicks(min: number, max: number): number[] {
  if (min === max) return [min];
  const whole = ticks(min, max, 5).filter((t) => Number.isInteger(t) && t >= min && t <= max);
  return whole.length >= 2 ? whole : [min, max];
}

/** A tick's label: as many decimals as the tick spacing needs, so neighbours never print alike. */
export function tickLabel(value: number, spacing: number): string {
  if (Math.abs(value) >= 1e6 || (value !== 0 && Math.abs(value) < 1e-4)) return formatNumber(value);
  // The spacing's own decimals (0.25 → 2), so 0.5, 0.75, 1 print as 0.50, 0.75, 1.00.
  const text = String(Number(spacing.toPrecision(12)));
  if (text.includes("e")) return formatNumber(value);
  const decimals = Math.min(8, text.split(".")[1]?.length ?? 0);
  return value.toFixed(decimals);
}

/** A value printed in at most `width` pixels at `fontSize` (fewer significant digits when narrow). */
export function fitNumber(value: number, width: number, fontSize: number): string {
  const fits = (text: string) => text.length * fontSize * 0.62 <= width;
  const full = formatNumber(value);
  if (fits(full)) return full;
  for (let digits = 5; digits >= 2; digits--) {
    const text = String(Number(value.toPrecision(digits)));
    if (fits(text)) return text;
    const exp = value.toExponential(digits - 1);
    if (fits(exp)) return exp;
  }
  return value.toExponential(0);
}

export interface Series {
  label: string;
  colour: string;
  dash?: string;
  points: StepPoint[];
}

interface Frame {
  width: number;
  height: number;
  margin: { left: number; right: number; top: number; bottom: number };
  font: number;
}

/** The value axis both charts draw: a gridline and a label at every tick. */
function YGrid(props: { frame: Frame; ticks: number[]; y: (v: number) => number }) {
  const f = props.frame;
  const spacing = props.ticks.length > 1 ? props.ticks[1]! - props.ticks[0]! : 1;
  return (
    <>
      {props.ticks.map((t) => (
        <g>
          <line
            x1={f.margin.left}
            x2={f.width - f.margin.right}
            y1={props.y(t)}
            y2={props.y(t)}
            stroke="#d5dbe1"
            stroke-width="1"
          />
          <text
            x={f.margin.left - 6}
            y={props.y(t) + f.font * 0.35}
            text-anchor="end"
            font-size={f.font}
            fill="#4d5661"
          >
            {tickLabel(t, spacing)}
          </text>
        </g>
      ))}
    </>
  );
}

const LINE_FRAME: Frame = { width: 460, height: 280, margin: { left: 58, right: 14, top: 14, bottom: 48 }, font: 14 };
const SMALL_FRAME: Frame = { width: 320, height: 160, margin: { left: 52, right: 10, top: 10, bottom: 30 }, font: 12 };

/**
 * Per-step curves of one metric, one line per series, on shared axes. A series of one point is a
 * dot; the last point of each series is marked.
 */
export function StepChart(props: { id: string; title: string; series: Series[]; small?: boolean; xLabel?: string }) {
  const f = props.small ? SMALL_FRAME : LINE_FRAME;
  const drawn = props.series.filter((s) => s.points.length > 0);
  const steps = drawn.flatMap((s) => s.points.map((p) => p.step));
  const values = drawn.flatMap((s) => s.points.map((p) => p.value));
  if (values.length === 0) return <p class="muted">No values to draw.</p>;
  const xs = stepTicks(Math.min(...steps), Math.max(...steps));
  const ys = ticks(Math.min(...values), Math.max(...values), props.small ? 3 : 4);
  // stepTicks() and ticks() return at least one tick.
  const [x0, x1] = [Math.min(xs[0]!, ...steps), Math.max(xs[xs.length - 1]!, ...steps)];
  const [y0, y1] = [ys[0]!, ys[ys.length - 1]!];
  const plotW = f.width - f.margin.left - f.margin.right;
  const plotH = f.height - f.margin.top - f.margin.bottom;
  const x = (step: number) => f.margin.left + (x1 === x0 ? plotW / 2 : ((step - x0) / (x1 - x0)) * plotW);
  const y = (v: number) => f.margin.top + plotH - ((v - y0) / (y1 - y0)) * plotH;
  const titleId = `${props.id}-title`;
  return (
    <svg
      class={props.small ? "chart small" : "chart"}
      viewBox={`0 0 ${f.width} ${f.height}`}
      role="img"
      aria-labelledby={titleId}
      xmlns="http://www.w3.org/2000/svg"
    >
      <title id={titleId}>{props.title}</title>
      <YGrid frame={f} ticks={ys} y={y} />
      <line
        x1={f.margin.left}
        x2={f.width - f.margin.right}
        y1={f.margin.top + plotH}
        y2={f.margin.top + plotH}
        stroke="#8c959f"
        stroke-width="1"
      />
      {xs.map((t) => (
        // Low enough that the lowest value tick, level with the axis, never touches a step label.
        <text
          x={x(t)}
          y={f.margin.top + plotH + Math.round(f.font * 1.6)}
          text-anchor="middle"
          font-size={f.font}
          fill="#4d5661"
        >
          {String(t)}
        </text>
      ))}
      {!props.small && (
        <text x={f.margin.left + plotW / 2} y={f.height - 6} text-anchor="middle" font-size={f.font} fill="#4d5661">
          {props.xLabel ?? "step"}
        </text>
      )}
      {drawn.map((s) => {
        const last = s.points[s.points.length - 1]!; // drawn holds series with points
        return (
          <g data-series={s.label}>
            {s.points.length > 1 && (
              <polyline
                points={s.points.map((p) => `${x(p.step).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ")}
                fill="none"
                stroke={s.colour}
                stroke-width={props.small ? "2" : "2.5"}
                stroke-dasharray={s.dash}
                stroke-linejoin="round"
              />
            )}
            <circle
              cx={x(last.step).toFixed(1)}
              cy={y(last.value).toFixed(1)}
              r={props.small ? "3" : "4"}
              fill={s.colour}
              stroke="#fff"
              stroke-width="1.5"
            />
          </g>
        );
      })}
    </svg>
  );
}

export interface Bar {
  label: string;
  value: number | null;
  colour: string;
}

const BAR_FRAME: Frame = { width: 460, height: 280, margin: { left: 58, right: 14, top: 28, bottom: 36 }, font: 14 };

/**
 * One bar per version from zero (a bar that does not start at zero overstates a difference), the
 * value printed over the bar inside the bar's own column, the version under it.
 */
export function BarChart(props: { id: string; title: string; bars: Bar[] }) {
  const f = BAR_FRAME;
  const values = props.bars.map((b) => b.value).filter(plottable);
  if (values.length === 0) return <p class="muted">No version has a value to draw.</p>;
  const ys = ticks(Math.min(0, ...values), Math.max(0, ...values));
  const [y0, y1] = [ys[0]!, ys[ys.length - 1]!]; // ticks() returns at least one tick
  const plotW = f.width - f.margin.left - f.margin.right;
  const plotH = f.height - f.margin.top - f.margin.bottom;
  const y = (v: number) => f.margin.top + plotH - ((v - y0) / (y1 - y0)) * plotH;
  const column = plotW / props.bars.length;
  const barW = Math.min(64, column * 0.6);
  const labelFont = column < 48 ? 12 : 14;
  const titleId = `${props.id}-title`;
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${f.width} ${f.height}`}
      role="img"
      aria-labelledby={titleId}
      xmlns="http://www.w3.org/2000/svg"
    >
      <title id={titleId}>{props.title}</title>
      <YGrid frame={f} ticks={ys} y={y} />
      {props.bars.map((b, i) => {
        const centre = f.margin.left + column * (i + 0.5);
        const usable = plottable(b.value);
        const top = usable ? Math.min(y(b.value as number), y(0)) : y(0);
        const height = usable ? Math.abs(y(b.value as number) - y(0)) : 0;
        // Above the bar's top end, or above the zero line for a bar that goes down: outside the bar,
        // inside its own column, clear of the version label under the axis.
        const labelY = usable && (b.value as number) < 0 ? y(0) - 6 : top - 6;
        return (
          <g data-bar={b.label}>
            {usable && (
              <rect
                x={(centre - barW / 2).toFixed(1)}
                y={top.toFixed(1)}
                width={barW.toFixed(1)}
                height={Math.max(height, 1).toFixed(1)}
                fill={b.colour}
              />
            )}
            <text
              x={centre.toFixed(1)}
              y={labelY.toFixed(1)}
              text-anchor="middle"
              font-size={labelFont}
              font-weight="600"
              fill="#1b1f24"
            >
              {usable ? fitNumber(b.value as number, column - 4, labelFont) : "no value"}
            </text>
            <text
              x={centre.toFixed(1)}
              y={f.height - f.margin.bottom + f.font + 8}
              text-anchor="middle"
              font-size={f.font}
              fill="#1b1f24"
            >
              {b.label}
            </text>
          </g>
        );
      })}
      <line x1={f.margin.left} x2={f.width - f.margin.right} y1={y(0)} y2={y(0)} stroke="#57606a" stroke-width="1.5" />
    </svg>
  );
}

/** A legend swatch: the series' colour and dash, as a short line. */
export function Swatch(props: { colour: string; dash?: string }) {
  return (
    <svg
      class="swatch"
      viewBox="0 0 24 10"
      width="24"
      height="10"
      aria-hidden="true"
      xmlns="http://www.w3.org/2000/svg"
    >
      <line x1="1" x2="23" y1="5" y2="5" stroke={props.colour} stroke-width="3" stroke-dasharray={props.dash} />
    </svg>
  );
}
