/**
 * `tapedeck report --run RUN --out FILE.html`: a run's tearsheet as one self-contained HTML file (uPlot
 * and the data inlined, nothing fetched): equity and drawdown, fills over the price, P&L by instrument,
 * order statistics and, for a live or paper run with a backtest of the same source and strategy, the
 * slippage histogram and per-order table. Figures come from the projections (exact decimals, shown as
 * text); only the charts use floating point, to draw.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TapedeckError } from '../../domain/core/errors.js';
import { projectStore } from '../../projections/catchup.js';
import { defaultDbPath, openDbWithRetry, queryRows, sqlString, trimDecimal } from '../../projections/db.js';
import { slippage, type SlippageReport } from '../../replay/slippage.js';
import { openStore } from '../store/open.js';

const here = path.dirname(fileURLToPath(import.meta.url));
function packageRoot(): string {
  const up = path.resolve(here, '../..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
}

function clean(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' ? trimDecimal(v) : v])));
}

export interface ReportData {
  run: Record<string, unknown>;
  pnl: Record<string, unknown>[];
  orderStats: Record<string, unknown>[];
  fills: Record<string, unknown>[];
  equity: Record<string, unknown>[];
  prices: Record<string, unknown>[];
  slippage: SlippageReport | null;
}

export async function reportData(storeDir: string, runId: string): Promise<ReportData> {
  const dbPath = defaultDbPath(storeDir);
  await projectStore(storeDir, { dbPath });
  const db = await openDbWithRetry(dbPath, { readOnly: true });
  let data: Omit<ReportData, 'slippage'>;
  let backtest: string | null = null;
  try {
    const r = sqlString(runId);
    const [run] = await queryRows(db.con, `SELECT run_id, mode, strategy, source, outcome, reason, inputs, orders, fills, decisions_hash, code_hash, config_hash, data_from::VARCHAR AS data_from, data_to::VARCHAR AS data_to FROM runs WHERE run_id = ${r}`);
    if (run === undefined) throw new TapedeckError('RUN_NOT_FOUND', `no run "${runId}" in this store (tapedeck query "SELECT run_id, mode FROM runs" lists them)`, { field: '--run' });
    data = {
      run: clean([run])[0]!,
      pnl: clean(await queryRows(db.con, `SELECT venue, instrument, quote_currency, quantity, realized_pnl, unrealized_pnl, mark_price, fees, net_pnl FROM pnl WHERE run_id = ${r} ORDER BY venue, instrument`)),
      orderStats: clean(await queryRows(db.con, `SELECT venue, instrument, count(*) AS orders, count(*) FILTER (WHERE fill_count > 0) AS filled_orders, count(*) FILTER (WHERE state = 'denied') AS denied,
        count(*) FILTER (WHERE state = 'rejected') AS rejected, count(*) FILTER (WHERE state = 'canceled') AS canceled, sum(fill_count) AS fills, sum(filled_quantity) AS filled_quantity, sum(filled_notional) AS filled_notional
        FROM orders WHERE run_id = ${r} GROUP BY venue, instrument ORDER BY venue, instrument`)),
      fills: clean(await queryRows(db.con, `SELECT fill_id, order_id, instrument, side, price, quantity, fee, liquidity, epoch_ns(event_time) AS event_time_ns FROM fills WHERE run_id = ${r} ORDER BY position`)),
      equity: clean(await queryRows(db.con, `WITH d AS (SELECT position, event_time, realized_pnl - coalesce(lag(realized_pnl) OVER (PARTITION BY strategy, venue, instrument ORDER BY position), 0) AS delta FROM position_history WHERE run_id = ${r})
        SELECT position, epoch_ns(event_time) AS event_time_ns, sum(delta) OVER (ORDER BY position) AS realized_pnl FROM d ORDER BY position`)),
      prices: clean(await queryRows(db.con, `SELECT instrument, epoch_ns(minute) AS minute_ns, close FROM bars WHERE run_id = ${r} AND instrument IN (SELECT instrument FROM fills WHERE run_id = ${r}) ORDER BY instrument, minute`)),
    };
    if (data.run.mode === 'live' || data.run.mode === 'paper') {
      const [pair] = await queryRows(db.con, `SELECT b.run_id FROM runs l JOIN runs b ON b.source = l.source AND b.strategy = l.strategy AND b.mode = 'replay' AND b.run_id <> l.run_id WHERE l.run_id = ${r} ORDER BY b.first_position DESC LIMIT 1`);
      backtest = pair ? String(pair.run_id) : null;
    }
  } finally {
    db.close();
  }
  let slip: SlippageReport | null = null;
  if (backtest !== null) {
    const store = await openStore(storeDir, { readOnly: true, create: false });
    try {
      slip = await slippage(store, runId, backtest);
    } finally {
      await store.close();
    }
  }
  return { ...data, slippage: slip };
}

function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}
function table(rows: Record<string, unknown>[], cols: Array<[string, string]>, cls = ''): string {
  if (rows.length === 0) return '<p class="note">none</p>';
  return `<table class="${cls}"><tr>${cols.map(([, l]) => `<th>${esc(l)}</th>`).join('')}</tr>${rows.map((r) => `<tr>${cols.map(([k]) => `<td>${esc(r[k])}</td>`).join('')}</tr>`).join('')}</table>`;
}
/** JSON safe inside a <script> element. */
function inlineJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c');
}

export function renderReport(d: ReportData): string {
  const uplotDir = path.join(packageRoot(), 'node_modules/uplot/dist');
  const uplotJs = fs.readFileSync(path.join(uplotDir, 'uPlot.iife.min.js'), 'utf8');
  const uplotCss = fs.readFileSync(path.join(uplotDir, 'uPlot.min.css'), 'utf8');
  const run = d.run;
  const s = d.slippage;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tapedeck tearsheet ${esc(run.run_id)}</title>
<style>${uplotCss}
body{font:13px/1.45 system-ui,sans-serif;margin:20px;color:#1d232a;max-width:1200px}
h1{font-size:18px}h2{font-size:15px;margin-top:22px}table{border-collapse:collapse;margin:6px 0;font-variant-numeric:tabular-nums}
th,td{padding:3px 8px;border-bottom:1px solid #d9dee3;text-align:left;white-space:nowrap}th{color:#66707a}.note{color:#66707a}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 14px}dt{color:#66707a}</style>
<script>${uplotJs.replace(/<\/script/gi, '<\\/script')}</script></head><body>
<h1>Tearsheet: run ${esc(run.run_id)}</h1>
<dl><dt>mode</dt><dd>${esc(run.mode)}</dd><dt>strategy</dt><dd>${esc(run.strategy)}</dd><dt>source</dt><dd>${esc(run.source)}</dd>
<dt>data</dt><dd>${esc(run.data_from)} to ${esc(run.data_to)}</dd><dt>outcome</dt><dd>${esc(run.outcome)} ${esc(run.reason ?? '')}</dd>
<dt>inputs, orders, fills</dt><dd>${esc(run.inputs)}, ${esc(run.orders)}, ${esc(run.fills)}</dd><dt>decisions hash</dt><dd>${esc(run.decisions_hash)}</dd></dl>
<h2>Equity and drawdown (realized P&amp;L)</h2><div id="equity"></div><div id="drawdown"></div>
<h2>Fills over the price</h2><div id="fills"></div>
<h2>P&amp;L by instrument</h2>${table(d.pnl, [['venue', 'venue'], ['instrument', 'instrument'], ['quote_currency', 'ccy'], ['quantity', 'position'], ['realized_pnl', 'realized'], ['unrealized_pnl', 'unrealized'], ['mark_price', 'mark'], ['fees', 'fees'], ['net_pnl', 'net P&L']], 'pnl')}
<h2>Order statistics</h2>${table(d.orderStats, [['venue', 'venue'], ['instrument', 'instrument'], ['orders', 'orders'], ['filled_orders', 'filled'], ['denied', 'denied'], ['rejected', 'rejected'], ['canceled', 'canceled'], ['fills', 'fills'], ['filled_quantity', 'filled qty'], ['filled_notional', 'notional']], 'orders')}
${s === null ? '' : `<h2>Slippage against backtest ${esc(s.backtestRun)}</h2>
<p class="note">${s.paired} orders paired, ${s.unpairedLive} live and ${s.unpairedBacktest} backtest unpaired. Basis points, positive = live worse.</p>
<div id="slippage"></div>
${table(s.distribution as unknown as Record<string, unknown>[], [['venue', 'venue'], ['instrument', 'instrument'], ['side', 'side'], ['sizeBucket', 'size'], ['count', 'count'], ['meanBps', 'mean'], ['p50Bps', 'p50'], ['p90Bps', 'p90'], ['worstBps', 'worst']])}
${table(s.orders as unknown as Record<string, unknown>[], [['liveOrderId', 'live order'], ['side', 'side'], ['quantity', 'qty'], ['decisionPrice', 'decision'], ['arrivalPrice', 'arrival'], ['liveVwap', 'live VWAP'], ['backtestVwap', 'backtest VWAP'], ['liveVsBacktestBps', 'vs backtest (bps)'], ['liveVsDecisionBps', 'vs decision (bps)']], 'slippage-orders')}`}
<script>
const D = ${inlineJson({ equity: d.equity, fills: d.fills, prices: d.prices, bps: s ? s.orders.map((o) => o.liveVsBacktestBps).filter((x) => x !== null) : [] })};
const sec = (ns) => Number(BigInt(ns) / 1000000n) / 1000;
function plot(id, title, series, data, extra) {
  const el = document.getElementById(id);
  if (!el) return;
  if (!data[0] || data[0].length === 0) { el.innerHTML = '<p class="note">no data</p>'; return; }
  new uPlot(Object.assign({ title, width: 1100, height: 220, series: [{}].concat(series) }, extra || {}), data, el);
}
// The curve runs from 0 at the first price bar to the last bar (or fill), flat between fills.
const allT = D.prices.map((p) => sec(p.minute_ns)).concat(D.fills.map((f) => sec(f.event_time_ns)));
const t = D.equity.map((r) => sec(r.event_time_ns));
const eq = D.equity.map((r) => Number(r.realized_pnl));
if (allT.length) { const a = Math.min(...allT), z = Math.max(...allT) + 60; if (!t.length || a < t[0]) { t.unshift(a); eq.unshift(0); } if (z > t[t.length - 1]) { t.push(z); eq.push(eq[eq.length - 1]); } }
let peak = -Infinity; const dd = eq.map((v) => { peak = Math.max(peak, v); return v - peak; });
plot('equity', 'realized P&L', [{ label: 'equity', stroke: '#1565c0' }], [t, eq]);
plot('drawdown', 'drawdown', [{ label: 'drawdown', stroke: '#c62828', fill: 'rgba(198,40,40,0.15)' }], [t, dd]);
const times = [...new Set(D.prices.map((p) => sec(p.minute_ns)).concat(D.fills.map((f) => sec(f.event_time_ns))))].sort((a, b) => a - b);
const close = new Map(D.prices.map((p) => [sec(p.minute_ns), Number(p.close)]));
const buys = new Map(D.fills.filter((f) => f.side === 'buy').map((f) => [sec(f.event_time_ns), Number(f.price)]));
const sells = new Map(D.fills.filter((f) => f.side === 'sell').map((f) => [sec(f.event_time_ns), Number(f.price)]));
plot('fills', 'price (1-minute close) and fills', [
  { label: 'close', stroke: '#455a64', spanGaps: true },
  { label: 'buy fills', stroke: '#2e7d32', paths: () => null, points: { show: true, size: 8, fill: '#2e7d32' } },
  { label: 'sell fills', stroke: '#c62828', paths: () => null, points: { show: true, size: 8, fill: '#c62828' } },
], [times, times.map((x) => close.get(x) ?? null), times.map((x) => buys.get(x) ?? null), times.map((x) => sells.get(x) ?? null)]);
if (D.bps.length) {
  const b = D.bps.map(Number); const lo = Math.floor(Math.min(0, ...b)); const hi = Math.ceil(Math.max(0, ...b));
  const xs = []; const ys = []; for (let x = lo; x <= hi; x++) { xs.push(x); ys.push(b.filter((v) => v >= x && v < x + 1).length); }
  plot('slippage', 'live vs backtest (bps per order)', [{ label: 'orders', stroke: '#1565c0', fill: 'rgba(21,101,192,0.35)', paths: uPlot.paths.bars({ size: [0.9, 40] }) }], [xs, ys], { scales: { x: { time: false } } });
}
</script></body></html>
`;
}

export async function writeReport(storeDir: string, runId: string, out: string): Promise<{ out: string; bytes: number }> {
  const html = renderReport(await reportData(storeDir, runId));
  const file = path.resolve(out);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, html);
  return { out: file, bytes: Buffer.byteLength(html) };
}
