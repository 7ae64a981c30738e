/**
 * The dashboard: one self-contained page (no CDN, works offline) that polls the JSON state every
 * second and redraws tables and two inline-SVG charts (throughput and p95 latency per model).
 * Text from the cluster is set with textContent, never parsed as HTML.
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>MaaS dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; background: #ffffff; color: #1d2433; }
  header { padding: 12px 20px; background: #1d2433; color: #fff; display: flex; justify-content: space-between; }
  main { padding: 16px 20px; display: grid; gap: 18px; }
  section h2 { font-size: 15px; margin: 0 0 8px; }
  .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; }
  svg.chart { width: 100%; height: 180px; border: 1px solid #d5dae3; background: #ffffff; }
  svg.chart .axis { fill: none; stroke: #d5dae3; stroke-width: 1; }
  svg.chart .series { fill: none; stroke-width: 2.5; }
  svg.chart text { font-size: 11px; fill: #5b6476; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e6e9ef; white-space: nowrap; }
  th { font-weight: 600; color: #5b6476; }
  .bar { background: #e6e9ef; height: 10px; width: 160px; display: inline-block; vertical-align: middle; }
  .bar > span { background: #2f7de1; height: 100%; display: block; }
  .bar > span.failed { background: #d9534f; }
  .legend span { margin-right: 12px; }
  .muted { color: #8a93a5; }
  .error { color: #d9534f; }
</style>
</head>
<body>
<header><strong>MaaS cluster</strong><span id="updated" class="muted">connecting…</span></header>
<main>
  <div class="charts">
    <section><h2>Throughput (requests/s)</h2><svg id="chart-throughput" class="chart" viewBox="0 0 600 180" preserveAspectRatio="none"></svg><div class="legend" id="legend-throughput"></div></section>
    <section><h2>Latency p95 (ms)</h2><svg id="chart-latency" class="chart" viewBox="0 0 600 180" preserveAspectRatio="none"></svg><div class="legend" id="legend-latency"></div></section>
  </div>
  <section><h2>Models</h2><table id="models"><thead><tr><th>model</th><th>versions</th><th>replicas ready / wanted</th><th>req/s</th><th>p50 ms</th><th>p95 ms</th><th>requests</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Workers</h2><table id="workers"><thead><tr><th>worker</th><th>address</th><th>device</th><th>cores</th><th>memory</th><th>load (in flight)</th><th>models</th><th>state</th></tr></thead><tbody></tbody></table></section>
  <section><h2>Queues</h2><table id="queues"><thead><tr><th>worker</th><th>in flight</th><th></th></tr></thead><tbody></tbody></table></section>
  <section><h2>Batch jobs</h2><div id="batch-jobs"></div></section>
</main>
<script>
const COLORS = ['#2f7de1', '#e4572e', '#29a35a', '#8e44ad', '#f0a202', '#17a2b8'];
const SVG = 'http://www.w3.org/2000/svg';
const W = 600, H = 180, PAD = 28;

function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }
function fmt(n, digits) { return n === undefined || n === null ? '–' : Number(n).toFixed(digits); }
function bytes(n) { return n >= 2 ** 30 ? (n / 2 ** 30).toFixed(1) + ' GiB' : (n / 2 ** 20).toFixed(0) + ' MiB'; }
function bar(td, share, failedShare) {
  const outer = document.createElement('span'); outer.className = 'bar';
  const done = document.createElement('span'); done.style.width = Math.round(Math.min(1, share) * 100) + '%';
  outer.appendChild(done);
  if (failedShare) { const failed = document.createElement('span'); failed.className = 'failed'; failed.style.width = Math.round(failedShare * 100) + '%'; outer.appendChild(failed); outer.style.display = 'inline-flex'; }
  td.appendChild(outer);
}
function fillTable(id, rows, render) {
  const body = document.querySelector('#' + id + ' tbody');
  body.replaceChildren();
  for (const item of rows) render(body.insertRow(), item);
}

function drawChart(id, models, value) {
  const svg = document.getElementById(id);
  svg.replaceChildren();
  const all = models.flatMap((m) => (m.traffic ? m.traffic.series : []).map(value)).filter((v) => v !== undefined && v !== null);
  const max = Math.max(1e-9, ...all) * 1.1;
  const axis = document.createElementNS(SVG, 'path');
  axis.setAttribute('class', 'axis'); axis.setAttribute('d', 'M' + PAD + ' 5 V' + (H - PAD) + ' H' + (W - 5));
  svg.appendChild(axis);
  const label = document.createElementNS(SVG, 'text');
  label.setAttribute('x', PAD + 4); label.setAttribute('y', 16); label.textContent = 'max ' + (max < 10 ? max.toFixed(1) : Math.round(max));
  svg.appendChild(label);
  const legend = document.getElementById('legend-' + id.slice(6));
  legend.replaceChildren();
  models.forEach((m, i) => {
    if (!m.traffic) return;
    const series = m.traffic.series;
    const step = (W - PAD - 5) / Math.max(1, series.length - 1);
    const points = [];
    series.forEach((p, j) => { const v = value(p); if (v !== undefined && v !== null) points.push((PAD + j * step).toFixed(1) + ',' + (H - PAD - (v / max) * (H - PAD - 8)).toFixed(1)); });
    const line = document.createElementNS(SVG, 'polyline');
    line.setAttribute('class', 'series'); line.setAttribute('data-model', m.name);
    line.setAttribute('stroke', COLORS[i % COLORS.length]); line.setAttribute('points', points.join(' '));
    svg.appendChild(line);
    const key = document.createElement('span'); key.style.color = COLORS[i % COLORS.length]; key.textContent = '■ ' + m.name;
    legend.appendChild(key);
  });
}

function render(state) {
  document.getElementById('updated').textContent = 'updated ' + new Date(state.at).toLocaleTimeString();
  drawChart('chart-throughput', state.models, (p) => p.requestsPerSecond);
  drawChart('chart-latency', state.models, (p) => p.p95Ms);
  fillTable('models', state.models, (row, m) => {
    cell(row, m.name); cell(row, m.versions.join(', ') || 'none ready');
    cell(row, m.replicasReady + ' / ' + m.replicasWanted, m.replicasReady < m.replicasWanted ? 'error' : '');
    const t = m.traffic || {};
    cell(row, fmt(t.requestsPerSecond, 1)); cell(row, fmt(t.p50Ms, 1)); cell(row, fmt(t.p95Ms, 1)); cell(row, t.total === undefined ? '0' : String(t.total));
  });
  fillTable('workers', state.workers, (row, w) => {
    cell(row, w.id.slice(0, 8)); cell(row, w.address); cell(row, w.providers.join(', ')); cell(row, String(w.cores));
    cell(row, bytes(w.memoryBytes)); cell(row, String(w.inFlight));
    cell(row, w.models.map((m) => m.name).join(', ') || '–'); cell(row, w.draining ? 'draining' : 'serving', w.draining ? 'error' : '');
  });
  const busiest = Math.max(1, ...state.queues.map((q) => q.inFlight));
  fillTable('queues', state.queues, (row, q) => { cell(row, q.worker.slice(0, 8)); cell(row, String(q.inFlight)); bar(row.insertCell(), q.inFlight / busiest); });
  const jobs = document.getElementById('batch-jobs');
  jobs.replaceChildren();
  if (!state.batchJobs || state.batchJobs.length === 0) {
    const none = document.createElement('p'); none.className = 'muted'; none.id = 'no-batch-jobs';
    none.textContent = state.batchJobs ? 'No batch jobs.' : 'No batch jobs: this scheduler runs none.';
    jobs.appendChild(none);
    return;
  }
  const table = document.createElement('table');
  table.innerHTML = '<thead><tr><th>job</th><th>model</th><th>state</th><th>rows done / total</th><th>failed</th><th>progress</th></tr></thead><tbody></tbody>';
  for (const j of state.batchJobs) {
    const row = table.tBodies[0].insertRow();
    cell(row, j.id); cell(row, j.model); cell(row, j.state); cell(row, j.rowsDone + ' / ' + j.totalRows); cell(row, String(j.rowsFailed));
    bar(row.insertCell(), j.totalRows ? (j.rowsDone - j.rowsFailed) / j.totalRows : 0, j.totalRows ? j.rowsFailed / j.totalRows : 0);
  }
  jobs.appendChild(table);
}

async function poll() {
  try {
    const response = await fetch('state', { cache: 'no-store' });
    if (!response.ok) throw new Error('HTTP ' + response.status);
    render(await response.json());
  } catch (error) {
    document.getElementById('updated').textContent = 'cannot reach the scheduler: ' + error.message;
  }
  setTimeout(poll, 1000);
}
poll();
</script>
</body>
</html>
`;
