// tapedeck's dashboard: plain JavaScript over the server's JSON APIs and its WebSocket stream.
// Figures are shown exactly as the API gives them (exact decimal strings from the projections);
// only the charts convert to floating point, to draw.

const $ = (id) => document.getElementById(id);
const state = { run: '', runs: [], charts: {}, refreshTimer: null, token: '', lastEvent: -1 };

async function api(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: ${r.status} ${(await r.json().catch(() => ({}))).message ?? ''}`);
  const j = await r.json();
  // An answer older than the last event seen (the server answers from its cache while it refreshes): ask again soon.
  if (typeof j.position === 'number' && j.position < state.lastEvent) scheduleRefresh();
  return j;
}
const q = () => (state.run ? `?run=${encodeURIComponent(state.run)}` : '');
const qa = (extra) => (state.run ? `?run=${encodeURIComponent(state.run)}&${extra}` : `?${extra}`);

function esc(v) {
  return String(v ?? '').replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}
const NUMERIC = /^-?\d+(\.\d+)?$/;
/** A table from rows; `cols` is [key, label] pairs; rows get data-key for tests and clicks. */
function table(el, rows, cols, opts = {}) {
  const head = `<tr>${cols.map(([, label]) => `<th>${esc(label)}</th>`).join('')}</tr>`;
  const body = rows.map((r, i) => {
    const key = opts.key ? opts.key(r) : i;
    const cells = cols.map(([k]) => {
      const v = r[k];
      return `<td data-field="${esc(k)}" class="${NUMERIC.test(String(v ?? '')) ? 'num' : ''}">${v === null || v === undefined ? '' : esc(typeof v === 'object' ? JSON.stringify(v) : v)}</td>`;
    }).join('');
    return `<tr data-key="${esc(key)}" class="${opts.onClick ? 'clickable' : ''}">${cells}</tr>`;
  }).join('');
  el.innerHTML = rows.length === 0 ? `<tr><td class="note">${esc(opts.empty ?? 'nothing yet')}</td></tr>` : head + body;
  if (opts.onClick) for (const tr of el.querySelectorAll('tr[data-key]')) tr.addEventListener('click', () => opts.onClick(tr.dataset.key));
}

function chart(name, el, opts, data) {
  state.charts[name]?.destroy();
  el.innerHTML = '';
  if (!data[0] || data[0].length === 0) {
    el.innerHTML = '<p class="note">no data yet</p>';
    return;
  }
  state.charts[name] = new uPlot({ width: Math.min(1100, el.clientWidth || 900), height: 220, ...opts }, data, el);
}

// ---------------------------------------------------------------- views

async function loadRuns() {
  const { runs } = await api('/api/runs');
  state.runs = runs;
  const sel = $('run-select');
  const cur = sel.value;
  sel.innerHTML = '<option value="">all runs</option>' + runs.map((r) => `<option value="${esc(r.run_id)}">${esc(r.mode)} ${esc(r.run_id.slice(0, 8))} ${esc(r.strategy)}</option>`).join('');
  sel.value = runs.some((r) => r.run_id === cur) ? cur : '';
  table($('runs-table'), runs, [['run_id', 'run'], ['mode', 'mode'], ['strategy', 'strategy'], ['source', 'source'], ['outcome', 'outcome'], ['inputs', 'inputs'], ['orders', 'orders'], ['fills', 'fills'], ['decisions_hash', 'decisions hash'], ['parity', 'parity']], {
    key: (r) => r.run_id,
    onClick: (runId) => checkParity(runId),
    empty: 'no runs in this store',
  });
  for (const tr of $('runs-table').querySelectorAll('tr[data-key]')) {
    const td = tr.querySelector('td[data-field="parity"]');
    td.className = td.textContent === 'identical' ? 'ok' : td.textContent === 'diverged' ? 'bad' : 'warn-text';
  }
  // Parity is checked in the background (one run at a time) for every finished run not yet checked.
  for (const r of runs) if (r.parity === 'not-checked') void api(`/api/runs/${encodeURIComponent(r.run_id)}/parity`).catch(() => undefined);
}

async function checkParity(runId) {
  await api(`/api/runs/${encodeURIComponent(runId)}/parity?wait=true`);
  await loadRuns();
}

async function loadPositions() {
  const [pos, exp] = await Promise.all([api(`/api/positions${q()}`), api(`/api/exposure${q()}`)]);
  table($('exposure-table'), exp.rows, [['venue', 'venue'], ['quote_currency', 'currency'], ['gross_exposure', 'gross exposure'], ['net_exposure', 'net exposure'], ['net_pnl', 'net P&L'], ['instruments', 'instruments']], { key: (r) => `${r.venue}|${r.quote_currency}` });
  table($('positions-table'), pos.rows, [['run_id', 'run'], ['venue', 'venue'], ['instrument', 'instrument'], ['quantity', 'quantity'], ['avg_price', 'avg price'], ['realized_pnl', 'realized P&L'], ['fees', 'fees'], ['quote_currency', 'ccy'], ['fill_count', 'fills']], {
    key: (r) => `${r.run_id}|${r.venue}|${r.instrument}`,
    empty: 'no positions',
  });
}

async function loadEquity() {
  const [eq, pnl, prices] = await Promise.all([api(`/api/equity${q()}`), api(`/api/pnl${q()}`), api(`/api/prices${qa('limit=5000')}`)]);
  table($('pnl-table'), pnl.rows, [['run_id', 'run'], ['venue', 'venue'], ['instrument', 'instrument'], ['quantity', 'quantity'], ['realized_pnl', 'realized'], ['unrealized_pnl', 'unrealized'], ['mark_price', 'mark'], ['fees', 'fees'], ['net_pnl', 'net P&L']], { key: (r) => `${r.run_id}|${r.venue}|${r.instrument}` });
  // One series per run, on a shared time axis (seconds), from 0 at the first price bar to the last bar.
  const sec = (ns) => Number(BigInt(ns) / 1000000n) / 1000;
  const pr = prices.rows.filter((r) => r.run_id === (state.run || prices.rows[0]?.run_id) && r.instrument === prices.rows[0]?.instrument);
  const runs = [...new Set(eq.rows.map((r) => r.run_id))];
  const edges = pr.length ? [sec(pr[0].minute_ns), sec(pr[pr.length - 1].minute_ns) + 60] : [];
  const times = [...new Set([...edges, ...eq.rows.map((r) => sec(r.event_time_ns))])].sort((a, b) => a - b);
  const series = runs.map((run) => {
    const byT = new Map(eq.rows.filter((r) => r.run_id === run).map((r) => [sec(r.event_time_ns), Number(r.realized_pnl)]));
    let last = 0;
    return times.map((t) => (byT.has(t) ? (last = byT.get(t)) : last));
  });
  const colors = ['#1565c0', '#c62828', '#2e7d32', '#6a1b9a', '#ef6c00'];
  chart('equity', $('equity-chart'), { title: 'realized P&L (quote currency)', series: [{}, ...runs.map((r, i) => ({ label: r.slice(0, 8), stroke: colors[i % colors.length], spanGaps: true }))] }, [times, ...series]);
  chart('price', $('price-chart'), { title: `price (1-minute close)${pr[0] ? ` ${pr[0].instrument}` : ''}`, series: [{}, { label: 'close', stroke: '#455a64' }] },
    [pr.map((r) => Number(BigInt(r.minute_ns) / 1000000n) / 1000), pr.map((r) => Number(r.close))]);
}

async function loadBlotter() {
  const [orders, fills] = await Promise.all([api(`/api/orders${qa('limit=200')}`), api(`/api/fills${qa('limit=200')}`)]);
  table($('orders-table'), orders.rows, [['order_id', 'order'], ['venue', 'venue'], ['instrument', 'instrument'], ['side', 'side'], ['order_type', 'type'], ['price', 'price'], ['quantity', 'qty'], ['filled_quantity', 'filled'], ['avg_fill_price', 'avg fill'], ['state', 'state'], ['deny_code', 'denied'], ['intended_time', 'time']], {
    key: (r) => `${r.run_id}|${r.order_id}`,
    onClick: (k) => showAudit(...k.split('|')),
    empty: 'no orders',
  });
  table($('fills-table'), fills.rows, [['fill_id', 'fill'], ['order_id', 'order'], ['venue', 'venue'], ['instrument', 'instrument'], ['side', 'side'], ['price', 'price'], ['quantity', 'qty'], ['fee', 'fee'], ['fee_currency', 'fee ccy'], ['liquidity', 'liquidity'], ['event_time', 'time']], {
    key: (r) => `${r.run_id}|${r.order_id}`,
    onClick: (k) => showAudit(...k.split('|')),
    empty: 'no fills',
  });
}

function step(title, body) {
  return `<div class="step"><h4>${esc(title)}</h4>${body}</div>`;
}
function eventBlock(e) {
  if (!e) return '<p class="note">none</p>';
  let s = `<div>#${esc(e.position)} <b>${esc(e.type)}</b> ${e.role ? `(${esc(e.role)})` : ''} event time ${esc(e.eventTimeNs)}</div><pre>${esc(JSON.stringify(e.data, null, 1))}</pre>`;
  if (e.raw) s += `<div>raw ${esc(e.raw.format)} bytes</div><pre class="raw-hex">${esc(e.raw.bytesHex)}</pre><div>decoded</div><pre class="raw-decoded">${esc(typeof e.raw.decoded === 'string' ? e.raw.decoded : JSON.stringify(e.raw.decoded, null, 1))}</pre>`;
  return s;
}

async function showAudit(runId, orderId) {
  const a = await api(`/api/orders/${encodeURIComponent(orderId)}/audit?run=${encodeURIComponent(runId)}`);
  $('audit-empty').textContent = `order ${a.orderId} of run ${a.runId}`;
  const fills = a.fills.map((f) => `<tr><td>${esc(f.fill_id)}</td><td class="num">${esc(f.price)}</td><td class="num">${esc(f.quantity)}</td><td>${esc(f.liquidity)}</td><td>#${esc(f.position)}</td></tr>`).join('');
  $('audit-body').innerHTML = [
    step('fills', fills ? `<table>${fills}</table>` : '<p class="note">not filled</p>'),
    step('venue messages', a.venueMessages.map(eventBlock).join('') || '<p class="note">none</p>'),
    step('submission', eventBlock(a.submission)),
    step(`risk: ${a.risk.outcome}`, `<div>${esc(a.risk.checks.join(', '))} ${esc(a.risk.code ?? '')} ${esc(a.risk.detail ?? '')}</div>`),
    step(`decision by ${a.strategy.id}`, `<div>state hash ${esc(a.stateHash)}, config ${esc(a.strategy.configHash.slice(0, 16))}…</div>${eventBlock(a.decision)}`),
    step('the triggering tick', `<div id="audit-cause">${eventBlock(a.cause)}</div>`),
  ].join('');
  location.hash = '#audit';
}

async function loadSlippage() {
  const run = state.runs.find((r) => r.run_id === state.run);
  const empty = () => {
    chart('slippage', $('slippage-chart'), {}, [[]]);
    $('slippage-dist').innerHTML = '';
    $('slippage-table').innerHTML = '';
  };
  if (!run || (run.mode !== 'live' && run.mode !== 'paper')) {
    $('slippage-note').textContent = 'Choose a live or paper run above: it is paired with the latest backtest of the same source and strategy.';
    return empty();
  }
  let r;
  try {
    r = await api(`/api/runs/${encodeURIComponent(run.run_id)}/slippage`);
  } catch (e) {
    $('slippage-note').textContent = String(e.message);
    return empty();
  }
  $('slippage-note').textContent = `${r.liveRun.slice(0, 8)} (${run.mode}) against backtest ${r.backtestRun.slice(0, 8)}: ${r.paired} orders paired, ${r.unpairedLive} live and ${r.unpairedBacktest} backtest unpaired. Basis points, positive = live worse.`;
  const bps = r.orders.map((o) => o.liveVsBacktestBps).filter((x) => x !== null).map(Number);
  // Histogram: 1 bp buckets over the observed range.
  const lo = Math.floor(Math.min(0, ...bps));
  const hi = Math.ceil(Math.max(0, ...bps));
  const xs = [];
  const ys = [];
  for (let b = lo; b <= hi; b++) {
    xs.push(b);
    ys.push(bps.filter((v) => v >= b && v < b + 1).length);
  }
  chart('slippage', $('slippage-chart'), { title: 'live vs backtest (bps per order)', series: [{}, { label: 'orders', fill: 'rgba(21,101,192,0.35)', stroke: '#1565c0', paths: uPlot.paths.bars({ size: [0.9, 40] }) }], scales: { x: { time: false } } }, bps.length ? [xs, ys] : [[]]);
  table($('slippage-dist'), r.distribution, [['venue', 'venue'], ['instrument', 'instrument'], ['side', 'side'], ['sizeBucket', 'size'], ['count', 'count'], ['meanBps', 'mean'], ['p50Bps', 'p50'], ['p90Bps', 'p90'], ['worstBps', 'worst']], { empty: 'no order was filled in both runs' });
  table($('slippage-table'), r.orders, [['liveOrderId', 'live order'], ['side', 'side'], ['quantity', 'qty'], ['decisionPrice', 'decision'], ['arrivalPrice', 'arrival'], ['liveVwap', 'live VWAP'], ['backtestVwap', 'backtest VWAP'], ['liveVsBacktestBps', 'vs backtest (bps)'], ['liveVsDecisionBps', 'vs decision (bps)']], { empty: 'no orders' });
}

async function loadVenues() {
  const [v, ready] = await Promise.all([api('/api/venues'), fetch('/readyz').then((r) => r.json())]);
  table($('venues-table'), v.venues, [['venue', 'venue'], ['state', 'state'], ['lastMessageAgeMs', 'last message (ms ago)'], ['reconciliation', 'reconciliation'], ['killSwitch', 'kill switch'], ['orderRateHeadroom', 'order-rate headroom']], { key: (r) => r.venue, empty: 'no venue heard from yet' });
  $('readyz').textContent = `readyz: ${JSON.stringify(ready)}`;
}

async function loadControl() {
  const c = await api('/api/control');
  const pill = $('kill-state');
  const worst = [c.killSwitch, ...c.venues].reduce((a, b) => (rank(b.state) > rank(a.state) ? b : a), c.killSwitch);
  pill.dataset.state = worst.state;
  pill.textContent = `kill switch: ${worst.state}${worst.venue && worst.venue !== '*' ? ` (${worst.venue})` : ''}`;
  table($('control-table'), [c.killSwitch, ...c.venues], [['venue', 'scope'], ['state', 'state'], ['reason', 'reason'], ['by', 'by'], ['eventTimeNs', 'time (ns)'], ['position', 'log position']], { key: (r) => r.venue });
  for (const b of $('control-form').querySelectorAll('button')) b.title = c.controlEnabled ? '' : 'control is disabled on this server (no token configured, or the store is read-only)';
}
function rank(s) {
  return { ACTIVE: 0, REDUCING: 1, HALTED: 2 }[s] ?? 0;
}

// ---------------------------------------------------------------- control

function confirmAction(text) {
  return new Promise((resolve) => {
    const d = $('confirm');
    $('confirm-text').textContent = text;
    d.returnValue = '';
    d.addEventListener('close', () => resolve(d.returnValue === 'ok'), { once: true });
    d.showModal();
  });
}

async function control(action) {
  const out = $('control-result');
  const token = $('token').value.trim();
  const venue = $('control-venue').value.trim();
  const reason = $('control-reason').value.trim() || `${action} from the dashboard`;
  if (!token) {
    out.className = 'bad';
    out.textContent = 'refused: enter the control token first';
    return;
  }
  const what = action === 'cancel-all' ? `cancel every working order${venue ? ` on ${venue}` : ''}` : `set the kill switch to ${action}${venue ? ` for ${venue}` : ' for all venues'}`;
  if (!(await confirmAction(`Really ${what}? Reason: ${reason}`))) {
    out.className = 'note';
    out.textContent = 'not sent';
    return;
  }
  const url = action === 'cancel-all' ? '/api/control/cancel-all' : '/api/control/kill-switch';
  const body = action === 'cancel-all' ? { reason } : { state: action, reason };
  if (venue) body.venue = venue;
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  const j = await r.json().catch(() => ({}));
  if (r.status === 202) {
    out.className = 'ok';
    out.textContent = `recorded: ${j.type} at log position ${j.position} (event ${j.eventId})`;
  } else {
    out.className = 'bad';
    out.textContent = `refused (${r.status}): ${j.message ?? j.error ?? ''}`;
  }
  await loadControl().catch(() => undefined);
}

// ---------------------------------------------------------------- live updates

function refreshAll() {
  return Promise.allSettled([loadRuns().then(() => loadSlippage()), loadPositions(), loadEquity(), loadBlotter(), loadVenues(), loadControl()]);
}
function scheduleRefresh() {
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(() => {
    state.refreshTimer = null;
    void refreshAll();
  }, 400);
}

function connect() {
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/stream`);
  ws.onopen = () => ($('live-status').textContent = 'live');
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    const events = Array.isArray(msg) ? msg : [];
    if (events.length > 0) state.lastEvent = Math.max(state.lastEvent, events[events.length - 1].position);
    if (!Array.isArray(msg) && typeof msg.position === 'number') state.lastEvent = Math.max(state.lastEvent, msg.position);
    scheduleRefresh();
  };
  ws.onclose = () => {
    $('live-status').textContent = 'reconnecting…';
    setTimeout(connect, 1000);
  };
}

$('run-select').addEventListener('change', (e) => {
  state.run = e.target.value;
  void refreshAll();
});
for (const b of $('control-form').querySelectorAll('button')) b.addEventListener('click', () => void control(b.dataset.action));
await refreshAll();
document.body.dataset.ready = 'true';
connect();
