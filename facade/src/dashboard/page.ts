import type { ContextStatus } from '../../../control/contracts';
import { STAGES } from '../../../control/plan';

export const DASHBOARD_PATH = '/_strangler/';
export const ASSETS_PATH = '/_strangler/assets';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

const stageLabel = (c: Pick<ContextStatus, 'stage' | 'percent'>) => (c.stage === 'canary' ? `canary ${c.percent}%` : c.stage);

function layout(title: string, body: string, bodyClass: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSETS_PATH}/dashboard.css">
</head>
<body class="${bodyClass}">
${body}
</body>
</html>
`;
}

/** The only thing a visitor without the session cookie gets to see. */
export function loginPage(error?: string): string {
  return layout(
    'Strangler — log in',
    `<main class="login">
  <h1>Strangler fig migration</h1>
  <form method="post" action="/_strangler/login" class="login-form" autocomplete="off">
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" required autofocus spellcheck="false" aria-describedby="login-hint">
    <p id="login-hint" class="hint">The facade's <code>STRANGLER_ADMIN_TOKEN</code>.</p>
    ${error ? `<p class="login-error" role="alert">${escapeHtml(error)}</p>` : ''}
    <button type="submit" class="btn primary">Log in</button>
  </form>
</main>`,
    'page-login',
  );
}

/** The small charts of each card, filled by dashboard.js from `GET /_strangler/series` (key, caption). */
const CHARTS: [string, string][] = [
  ['split', 'Service share of traffic'],
  ['diffRate', 'Shadow diff rate'],
  ['errorRate', 'Service error rate'],
  ['latency', 'Service latency p50 / p99'],
  ['fallbacks', 'Fallbacks to the monolith'],
  ['lag', 'CDC lag'],
];

function card(c: ContextStatus): string {
  const name = escapeHtml(c.name);
  const ladder = STAGES.map((s) => `<li data-step="${s}"${s === c.stage ? ' class="current" aria-current="step"' : ''}>${s}</li>`).join('');
  return `<section class="card" data-context="${name}" aria-labelledby="h-${name}">
  <header class="card-head">
    <h2 id="h-${name}">${name}</h2>
    <div class="stage" data-field="stage" data-stage="${c.stage}">${escapeHtml(stageLabel(c))}</div>
  </header>
  <ol class="ladder" data-field="ladder">${ladder}</ol>
  <div class="findings" data-field="findings" role="alert">${c.findings.map((f) => `<p class="finding critical"><strong>Critical:</strong> ${escapeHtml(f.message)}</p>`).join('')}</div>
  <div class="notices" data-field="notices" role="status"></div>
  <p class="routes">${c.routes.map((r) => `<code>${escapeHtml(r)}</code>`).join(' ')}</p>
  <dl class="facts">
    <dt>Traffic</dt>
    <dd data-field="traffic"><div class="bar" aria-hidden="true"><span class="bar-monolith"></span><span class="bar-service"></span></div><span data-field="traffic-text">…</span></dd>
    <dt>Shadow</dt><dd data-field="shadow">…</dd>
    <dt>Sticky users</dt><dd data-field="stickiness">…</dd>
    <dt>Pipelines</dt><dd data-field="pipelines">…</dd>
    <dt>Breaker</dt><dd data-field="breaker">${escapeHtml(c.breaker)}</dd>
    <dt>Service</dt><dd data-field="service">…</dd>
    <dt>Auto-rollback</dt><dd data-field="rollback">…</dd>
  </dl>
  <div class="next" data-field="next" aria-live="polite"><p class="muted">…</p></div>
  <div class="charts" data-field="charts">
${CHARTS.map(([key, title]) => `    <figure class="chart" data-chart="${key}"><figcaption><span class="chart-title">${title}</span> <span class="chart-value" data-value></span></figcaption><div class="chart-box"><p class="muted">collecting…</p></div></figure>`).join('\n')}
  </div>
  <div class="actions">
    <button type="button" class="btn rollback" data-action="rollback">◀ Roll back</button>
    <button type="button" class="btn advance" data-action="advance">Advance ▶</button>
  </div>
  <div class="result" data-field="result" aria-live="polite"></div>
  <div class="diffs">
    <h3>Shadow diffs by route and JSON path</h3>
    <div data-field="diff-groups"><p class="muted">none</p></div>
  </div>
</section>`;
}

/** The projector page: one card per context, filled in and kept live by dashboard.js. */
export function dashboardPage(contexts: ContextStatus[]): string {
  return layout(
    'Strangler — migration dashboard',
    `<header class="top">
  <h1>Strangler fig migration</h1>
  <p class="live" id="live" aria-live="polite">connecting…</p>
  <p class="unleash" id="unleash"></p>
  <form method="post" action="/_strangler/logout"><button type="submit" class="btn small">Log out</button></form>
</header>
<main class="grid" id="contexts">
${contexts.map(card).join('\n')}
</main>
<section class="history" aria-labelledby="h-history">
  <h2 id="h-history">Stage history</h2>
  <table id="history">
    <thead><tr><th>time</th><th>context</th><th>who</th><th>move</th><th>gates</th><th>reason</th></tr></thead>
    <tbody data-field="history"><tr><td colspan="6" class="muted">no stage moves recorded yet</td></tr></tbody>
  </table>
</section>
<dialog id="confirm" aria-labelledby="confirm-title">
  <h2 id="confirm-title">Confirm</h2>
  <p id="confirm-text"></p>
  <div class="dialog-actions">
    <button type="button" class="btn" id="confirm-no">Cancel</button>
    <button type="button" class="btn primary" id="confirm-yes">Confirm</button>
  </div>
</dialog>
<script src="${ASSETS_PATH}/charts.js" defer></script>
<script src="${ASSETS_PATH}/dashboard.js" defer></script>`,
    'page-dashboard',
  );
}
