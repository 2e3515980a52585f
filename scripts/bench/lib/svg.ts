/**
 * Dependency-free SVG charts, so the report renders on GitHub without a browser
 * or a plotting library at build time.
 */
export interface Series {
  name: string;
  /** One value per category; NaN or undefined leaves a gap. */
  values: Array<number | undefined>;
}

export interface BarChart {
  title: string;
  yLabel: string;
  categories: string[];
  series: Series[];
  /** A log axis for values spanning orders of magnitude (latencies, history sizes). */
  log?: boolean;
}

const COLORS = ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6'];
const WIDTH = 720;
const HEIGHT = 360;
const M = { top: 40, right: 20, bottom: 70, left: 70 };

const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const step = 10 ** Math.floor(Math.log10(max));
  const unit = max / step > 5 ? step * 2 : max / step > 2 ? step : step / 2;
  const ticks: number[] = [];
  for (let v = 0; v <= max * 1.0001 + unit; v += unit) ticks.push(v);
  return ticks;
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) ticks.push(10 ** e);
  return ticks;
}

const label = (value: number): string => {
  if (value >= 1e6) return `${value / 1e6}M`;
  if (value >= 1e3) return `${value / 1e3}k`;
  return String(Number(value.toPrecision(3)));
};

export function barChart(chart: BarChart): string {
  const finite = chart.series.flatMap((s) => s.values).filter((v): v is number => v !== undefined && Number.isFinite(v) && (!chart.log || v > 0));
  const plotW = WIDTH - M.left - M.right;
  const plotH = HEIGHT - M.top - M.bottom;
  const dataMax = finite.length ? Math.max(...finite) : 1;
  const dataMin = finite.length ? Math.min(...finite) : 1;
  const ticks = chart.log ? logTicks(Math.max(dataMin, 1e-3), dataMax) : niceTicks(dataMax);
  const lo = chart.log ? ticks[0]! : 0;
  const hi = ticks[ticks.length - 1]!;
  const y = (v: number): number => {
    const t = chart.log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1) : (v - lo) / (hi - lo || 1);
    return M.top + plotH - t * plotH;
  };
  const groupW = plotW / Math.max(1, chart.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, chart.series.length);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${WIDTH / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${escape(chart.title)}</text>`);
  for (const tick of ticks) {
    const ty = y(tick).toFixed(1);
    parts.push(`<line x1="${M.left}" x2="${WIDTH - M.right}" y1="${ty}" y2="${ty}" stroke="#e5e7eb"/>`);
    parts.push(`<text x="${M.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle">${label(tick)}</text>`);
  }
  parts.push(`<text x="16" y="${M.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 16 ${M.top + plotH / 2})">${escape(chart.yLabel)}${chart.log ? ' (log)' : ''}</text>`);
  chart.categories.forEach((category, ci) => {
    const gx = M.left + ci * groupW + groupW * 0.1;
    chart.series.forEach((series, si) => {
      const value = series.values[ci];
      if (value === undefined || !Number.isFinite(value) || (chart.log && value <= 0)) return;
      const top = y(value);
      const x = gx + si * barW;
      parts.push(`<rect x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(M.top + plotH - top).toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${escape(`${series.name} ${category}: ${value}`)}</title></rect>`);
    });
    parts.push(`<text x="${(M.left + ci * groupW + groupW / 2).toFixed(1)}" y="${M.top + plotH + 16}" text-anchor="middle">${escape(category)}</text>`);
  });
  parts.push(`<line x1="${M.left}" x2="${WIDTH - M.right}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#111"/>`);
  chart.series.forEach((series, si) => {
    const lx = M.left + si * 170;
    const ly = HEIGHT - 22;
    parts.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLORS[si % COLORS.length]}"/>`);
    parts.push(`<text x="${lx + 18}" y="${ly}">${escape(series.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
