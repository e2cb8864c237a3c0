/* global document, location, window */
// The dashboard's only script: polls the admin JSON API and fills in the server-rendered cards. Every value from the
// API goes in through textContent, never as HTML: diffs carry whatever the shop's responses contained.
'use strict';

(() => {
  const API = '/_strangler';
  const POLL_MS = 1500;
  const CHART_WINDOW_MS = 3600 * 1000;
  const HISTORY_ROWS = 15;
  const STAGES = ['monolith', 'shadow', 'canary', 'cutover', 'retired'];

  const cards = new Map();
  for (const el of document.querySelectorAll('[data-context]')) cards.set(el.dataset.context, el);
  const latest = new Map();
  const diffSignature = new Map();
  const groupsFetchedFor = new Map();
  const openDiffs = new Set();
  const seriesPoints = new Map();
  const busy = new Set();

  const field = (card, name) => card.querySelector(`[data-field="${name}"]`);
  const pct = (r) => `${(r * 100).toFixed(1)}%`;
  const wholePct = (r) => `${Math.round(r * 100)}%`;
  const stageLabel = (p) => (p.stage === 'canary' ? `canary ${p.percent}%` : p.stage);
  const time = (iso) => new Date(iso).toLocaleTimeString();

  /** h('p', { class: 'x' }, 'text', child) — strings become text nodes. */
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      el.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
    }
    return el;
  }
  const fill = (el, ...children) => el.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  const pill = (kind, text) => h('span', { class: `pill ${kind}` }, text);

  async function getJson(path) {
    const res = await fetch(API + path, { headers: { accept: 'application/json' }, cache: 'no-store' });
    // The session ran out (or the token was rotated): the server shows the login form again.
    if (res.status === 401) {
      location.reload();
      throw new Error('logged out');
    }
    if (!res.ok) throw new Error(`${path} answered HTTP ${res.status}`);
    return res.json();
  }

  // ---- rendering --------------------------------------------------------------------------------------------------

  function renderStage(card, c) {
    const stage = field(card, 'stage');
    stage.dataset.stage = c.stage;
    stage.textContent = stageLabel(c);
    const at = STAGES.indexOf(c.stage);
    for (const li of field(card, 'ladder').children) {
      const i = STAGES.indexOf(li.dataset.step);
      li.classList.toggle('current', i === at);
      li.classList.toggle('done', i < at);
      if (i === at) li.setAttribute('aria-current', 'step');
      else li.removeAttribute('aria-current');
    }
    card.querySelector('[data-action="advance"]').disabled = busy.has(c.name) || c.stage === 'retired';
    card.querySelector('[data-action="rollback"]').disabled = busy.has(c.name) || c.stage === 'monolith';
  }

  function renderTraffic(card, t, windowSeconds, c) {
    // The facade cuts a context's window at its last stage change, so the split never mixes two stages.
    const seconds = t && t.seconds !== undefined ? t.seconds : windowSeconds;
    const span = t && t.sinceStageChange ? `last ${seconds} s, since the move to ${stageLabel(c)}` : `last ${seconds} s`;
    const monolith = t ? t.monolith : 0;
    const service = t ? t.service : 0;
    const total = monolith + service;
    const bar = field(card, 'traffic').querySelector('.bar');
    bar.querySelector('.bar-monolith').style.width = total ? `${(monolith / total) * 100}%` : '0';
    bar.querySelector('.bar-service').style.width = total ? `${(service / total) * 100}%` : '0';
    const text = field(card, 'traffic-text');
    if (!total) {
      fill(text, `no requests in the ${span}`);
      return;
    }
    fill(
      text,
      h('span', { class: 'swatch monolith' }),
      `monolith ${wholePct(monolith / total)} (${monolith})  `,
      h('span', { class: 'swatch service' }),
      `service ${wholePct(service / total)} (${service})`,
      ` — ${span}`,
    );
  }

  function renderShadow(card, s) {
    if (!s.compared) {
      fill(field(card, 'shadow'), `no comparisons yet · sampling ${s.sampleRate}%`);
      return;
    }
    const kind = s.diffRate === 0 ? 'ok' : s.diffRate <= 0.01 ? 'warn' : 'bad';
    fill(
      field(card, 'shadow'),
      pill(kind, `diff rate ${pct(s.diffRate)}`),
      ` ${s.diffs + s.errors} of ${s.compared} compared`,
      s.errors ? ` (${s.errors} service errors)` : '',
      ` · sampling ${s.sampleRate}%`,
    );
  }

  function renderFindings(card, findings) {
    fill(field(card, 'findings'), ...(findings || []).map((f) => h('p', { class: 'finding critical' }, h('strong', {}, 'Critical:'), ` ${f.message}`)));
  }

  /** What the context's service says about itself in its /health (a workshop fault or planted bug while active). */
  function renderNotices(card, upstream) {
    const notices = (upstream && upstream.notices) || [];
    fill(field(card, 'notices'), ...notices.map((n) => h('p', { class: 'notice' }, h('strong', {}, 'Service says:'), ` ${n}`)));
  }

  function renderStickiness(card, s, shadow) {
    const writes = shadow.writes === 'dryRun' ? (shadow.writesMirrored ? 'writes mirrored as dry runs' : 'write mirroring stopped') : 'reads mirrored only';
    if (!s || !s.requests) {
      fill(field(card, 'stickiness'), `no routed requests yet · ${writes}`);
      return;
    }
    const kind = s.withoutUserShare === 0 ? 'ok' : s.withoutUserShare <= 0.1 ? 'warn' : 'bad';
    fill(field(card, 'stickiness'), pill(kind, `${pct(s.withoutUserShare)} without a user`), ` of ${s.requests} · fallback ${s.fallback} · ${writes}`);
  }

  function pipelineText(direction, p) {
    if (!p) return [`${direction}: `, pill('none', 'absent')];
    const kind = p.state === 'streaming' ? 'ok' : p.state === 'error' ? 'bad' : 'warn';
    const lag = p.lagMs === null || p.lagMs === undefined ? ' lag unknown' : ` lag ${p.lagMs} ms`;
    // Rows both sides wrote between two syncs (strangler conflicts <context> lists them with both versions).
    const conflicts = p.sink && p.sink.conflicts ? [' · ', pill('warn', `${p.sink.conflicts} conflict${p.sink.conflicts === 1 ? '' : 's'}`)] : [];
    return [`${direction}: `, pill(kind, p.state), lag, ...conflicts];
  }

  function renderPipelines(card, pipelines) {
    if (!pipelines) {
      fill(field(card, 'pipelines'), pill('none', 'no CDC worker'));
      return;
    }
    fill(field(card, 'pipelines'), ...pipelineText('forward', pipelines.forward), h('br'), ...pipelineText('reverse', pipelines.reverse));
  }

  function renderBreaker(card, state) {
    const kind = state === 'closed' ? 'ok' : state === 'open' ? 'bad' : 'warn';
    fill(field(card, 'breaker'), pill(kind, state.replace('_', '-')));
  }

  function renderService(card, s) {
    const kind = !s.requests ? 'none' : s.errorRate === 0 ? 'ok' : s.errorRate <= 0.05 ? 'warn' : 'bad';
    fill(
      field(card, 'service'),
      pill(kind, `errors ${pct(s.errorRate)}`),
      ` ${s.failed} of ${s.requests} in ${s.windowSeconds} s`,
      s.lastFallbackAt ? ` · last fallback ${time(s.lastFallbackAt)}` : '',
    );
  }

  function renderRollback(card, r) {
    if (!r) {
      fill(field(card, 'rollback'), h('span', { class: 'muted' }, 'none since the facade started'));
      return;
    }
    fill(field(card, 'rollback'), pill('bad', `${time(r.at)} ${stageLabel(r.from)} → ${stageLabel(r.to)}`), ' ', r.reason);
  }

  // ---- grouped diffs (Diffy-style: route, then JSON path) ---------------------------------------------------------

  function examplesTable(p) {
    return h(
      'table',
      {},
      h('thead', {}, h('tr', {}, h('th', {}, 'monolith'), h('th', {}, 'service'), h('th', {}, 'seen'), h('th', {}, 'newest request'))),
      h(
        'tbody',
        {},
        p.examples.map((e) =>
          h(
            'tr',
            {},
            h('td', { class: 'mono' }, e.missing === 'monolith' ? '(missing)' : JSON.stringify(e.monolith)),
            h('td', { class: 'mono' }, e.missing === 'service' ? '(missing)' : JSON.stringify(e.service)),
            h('td', {}, `${e.count}×`),
            h('td', { class: 'mono' }, `${e.request.method} ${e.request.path}`, e.concretePath !== p.path ? ` at ${e.concretePath}` : ''),
          ),
        ),
      ),
    );
  }

  function renderGroups(card, name, g) {
    const signature = JSON.stringify(g);
    if (diffSignature.get(name) === signature) return;
    diffSignature.set(name, signature);
    const box = field(card, 'diff-groups');
    if (!g.routes.length && !g.noise.length) {
      fill(box, h('p', { class: 'muted' }, 'none'));
      return;
    }
    const routes = g.routes.map((r) =>
      h(
        'section',
        { class: 'diff-route', 'data-route': r.route },
        h('h4', {}, h('span', { class: 'mono' }, r.route), ` — ${r.diffs + r.errors} of ${r.compared} compared differed`),
        r.paths.map((p) => {
          const key = `${r.route} ${p.path}`;
          const details = h(
            'details',
            { class: 'diff-group', 'data-path': p.path, open: openDiffs.has(key), ontoggle: () => (details.open ? openDiffs.add(key) : openDiffs.delete(key)) },
            h(
              'summary',
              {},
              h('span', { class: 'mono' }, p.path),
              ` — ${p.count}× (${p.share === null ? '–' : pct(p.share)} of comparisons) · ${p.distinct} distinct · last ${time(p.lastSeen)}`,
            ),
            examplesTable(p),
            h('p', { class: 'meta' }, `first seen ${time(p.firstSeen)}`, p.distinct > p.examples.length ? ` · showing the newest ${p.examples.length} of ${p.distinct} value pairs` : ''),
          );
          return details;
        }),
      ),
    );
    const noise = g.noise.length
      ? h(
          'section',
          { class: 'diff-noise' },
          h('h4', {}, 'Learned noise (hidden: differs between two monolith calls too)'),
          h('ul', {}, g.noise.map((n) => h('li', {}, h('span', { class: 'mono' }, n.path), ` on ${n.route} — ${n.count}×`))),
        )
      : null;
    fill(box, routes, noise);
  }

  // ---- charts from the server-side series -------------------------------------------------------------------------

  const latestOf = (values) => {
    for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i];
    return null;
  };
  const percentOf = (r) => (r === null || r === undefined ? null : r * 100);
  const fmtPct = (v) => `${Math.round(v * 10) / 10}%`;
  const fmtMs = (v) => (v >= 1000 ? `${Math.round(v / 100) / 10} s` : `${Math.round(v)} ms`);

  function chart(card, key, options, caption) {
    const figure = card.querySelector(`[data-chart="${key}"]`);
    window.StranglerCharts.line(figure.querySelector('.chart-box'), options);
    figure.querySelector('[data-value]').textContent = caption;
  }

  function renderCharts(card, name, points) {
    const times = points.map((p) => Date.parse(p.at));
    const markers = [];
    for (let i = 1; i < points.length; i++) {
      if (points[i].stage !== points[i - 1].stage || points[i].percent !== points[i - 1].percent) markers.push({ t: times[i], label: `→ ${stageLabel(points[i])}` });
    }
    const col = (f) => points.map(f);
    const common = { times, markers };

    const share = col((p) => percentOf(p.serviceShare));
    const nowShare = latestOf(share);
    chart(
      card,
      'split',
      { ...common, label: `${name}: service share of traffic`, fixedMax: 100, format: fmtPct, lines: [{ name: 'flag percent', cls: 'target', values: col((p) => p.percent) }, { name: 'service share', cls: 'service', values: share }] },
      nowShare === null ? 'no traffic' : `${Math.round(nowShare)}% now · flag ${points[points.length - 1].percent}%`,
    );
    const diffRate = col((p) => percentOf(p.shadow.diffRate));
    const lastDiff = latestOf(diffRate);
    chart(card, 'diffRate', { ...common, label: `${name}: shadow diff rate`, format: fmtPct, lines: [{ name: 'diff rate', cls: 'bad', values: diffRate }] }, lastDiff === null ? 'no comparisons' : fmtPct(lastDiff));
    const errorRate = col((p) => percentOf(p.service.errorRate));
    const lastError = latestOf(errorRate);
    chart(card, 'errorRate', { ...common, label: `${name}: service error rate`, format: fmtPct, lines: [{ name: 'error rate', cls: 'bad', values: errorRate }] }, lastError === null ? 'no service requests' : fmtPct(lastError));
    const p50 = col((p) => p.service.p50Ms);
    const p99 = col((p) => p.service.p99Ms);
    chart(
      card,
      'latency',
      { ...common, label: `${name}: service latency`, format: fmtMs, floor: 10, lines: [{ name: 'p50', cls: 'service', values: p50 }, { name: 'p99', cls: 'warn', values: p99 }] },
      latestOf(p99) === null ? 'no service requests' : `p50 ${fmtMs(latestOf(p50))} · p99 ${fmtMs(latestOf(p99))}`,
    );
    const fallbacks = col((p) => p.fallbacks);
    chart(card, 'fallbacks', { ...common, label: `${name}: fallbacks to the monolith`, lines: [{ name: 'fallbacks', cls: 'warn', values: fallbacks }] }, `${fallbacks.reduce((a, b) => a + b, 0)} in the chart`);
    const forward = col((p) => (p.pipelines.forward ? p.pipelines.forward.lagMs : null));
    const reverse = col((p) => (p.pipelines.reverse ? p.pipelines.reverse.lagMs : null));
    const lagNow = [latestOf(forward) === null ? null : `forward ${fmtMs(latestOf(forward))}`, latestOf(reverse) === null ? null : `reverse ${fmtMs(latestOf(reverse))}`].filter(Boolean);
    chart(
      card,
      'lag',
      { ...common, label: `${name}: CDC lag`, format: fmtMs, floor: 100, lines: [{ name: 'forward', cls: 'service', values: forward }, { name: 'reverse', cls: 'monolith', values: reverse }] },
      lagNow.length ? lagNow.join(' · ') : 'no pipelines',
    );
  }

  /** Appends the points after the newest one held (the first call takes the last hour), drops those out of the chart. */
  async function pollSeries(name) {
    const held = seriesPoints.get(name) || [];
    const since = held.length ? held[held.length - 1].at : new Date(Date.now() - CHART_WINDOW_MS).toISOString();
    const { points } = await getJson(`/series?context=${encodeURIComponent(name)}&since=${encodeURIComponent(since)}`);
    if (!points.length && held.length) return;
    const horizon = Date.now() - CHART_WINDOW_MS;
    const all = held.concat(points).filter((p) => Date.parse(p.at) >= horizon);
    seriesPoints.set(name, all);
    if (all.length) renderCharts(cards.get(name), name, all);
  }

  // ---- the next stage's gates, before Advance is pressed ----------------------------------------------------------

  function renderNext(card, item) {
    const box = field(card, 'next');
    if (!item) return;
    if (!item.to) {
      fill(box, h('p', { class: 'muted' }, 'retired: no next stage'));
      return;
    }
    const failing = item.gates.filter((g) => g.pass === false).length;
    const pending = item.gates.filter((g) => g.pass === null).length;
    const verdict = failing ? pill('bad', `${failing} of ${item.gates.length} gates fail`) : pill('ok', pending ? `${item.gates.length - pending} gates pass, ${pending} on Advance` : 'all gates pass');
    fill(box, h('h3', {}, `Gates to ${stageLabel(item.to)}: `, verdict), gateTable(item.gates));
  }

  let historySignature;
  /** Every stage move, whoever made it: CLI, dashboard, API, automatic rollback, or someone in Unleash's UI. */
  function renderHistory(items) {
    const signature = items.map((e) => e.id).join(',');
    if (signature === historySignature) return;
    historySignature = signature;
    const body = document.querySelector('#history [data-field="history"]');
    if (!items.length) {
      fill(body, h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'no stage moves recorded yet')));
      return;
    }
    fill(
      body,
      items.map((e) => {
        const passed = e.gates.filter((g) => g.pass).length;
        const gates = e.gates.length ? `${passed}/${e.gates.length} pass` : '—';
        return h(
          'tr',
          { 'data-history': e.id, 'data-actor': e.actor },
          h('td', {}, time(e.at)),
          h('td', {}, e.context),
          h('td', {}, pill(e.actor === 'auto-rollback' || e.actor === 'unleash' ? 'warn' : 'none', e.actor)),
          h('td', {}, `${stageLabel(e.from)} → ${stageLabel(e.to)}${e.forced ? ' (forced)' : ''}`),
          h('td', {}, gates),
          h('td', {}, e.reason || ''),
        );
      }),
    );
  }

  function renderHeader(ok, message, unleash) {
    const live = document.getElementById('live');
    live.classList.toggle('stale', !ok);
    live.textContent = ok ? `● live · updated ${new Date().toLocaleTimeString()}` : `⚠ not updating: ${message}`;
    if (unleash) {
      const el = document.getElementById('unleash');
      el.classList.toggle('bad', unleash.state !== 'synchronized');
      el.textContent = `Unleash: ${unleash.state}${unleash.lastError ? ` (${unleash.lastError})` : ''}`;
    }
  }

  // ---- polling ----------------------------------------------------------------------------------------------------

  let timer;
  let running = false;
  let again = false;

  async function tick() {
    if (running) {
      again = true;
      return;
    }
    running = true;
    clearTimeout(timer);
    try {
      const [status, traffic, gates, history, health] = await Promise.all([
        getJson('/status'),
        getJson('/traffic'),
        getJson('/gates'),
        getJson(`/history?limit=${HISTORY_ROWS}`),
        getJson('/health').catch(() => ({ upstreams: {} })),
      ]);
      const nextOf = new Map(gates.items.map((g) => [g.context, g]));
      renderHistory(history.items);
      for (const c of status.contexts) {
        const card = cards.get(c.name);
        if (!card) continue;
        latest.set(c.name, c);
        renderStage(card, c);
        renderTraffic(card, traffic.contexts[c.name], traffic.seconds, c);
        renderShadow(card, c.shadow);
        renderFindings(card, c.findings);
        renderNotices(card, health.upstreams[c.name]);
        renderStickiness(card, c.stickiness, c.shadow);
        renderPipelines(card, c.pipelines);
        renderBreaker(card, c.breaker);
        renderService(card, c.service);
        renderRollback(card, c.lastRollback);
        renderNext(card, nextOf.get(c.name));
      }
      await Promise.all([...cards.keys()].map((name) => pollSeries(name)));
      // Grouping reads every stored diff: only again when the context's counts moved.
      const changed = status.contexts.filter((c) => cards.has(c.name) && groupsFetchedFor.get(c.name) !== `${c.shadow.compared}/${c.shadow.diffs}/${c.shadow.errors}`);
      const groups = await Promise.all(changed.map((c) => getJson(`/diffs/groups?context=${encodeURIComponent(c.name)}`)));
      changed.forEach((c, i) => {
        groupsFetchedFor.set(c.name, `${c.shadow.compared}/${c.shadow.diffs}/${c.shadow.errors}`);
        renderGroups(cards.get(c.name), c.name, groups[i]);
      });
      renderHeader(true, '', status.unleash);
    } catch (err) {
      renderHeader(false, err.message);
    } finally {
      running = false;
      if (again) {
        again = false;
        void tick();
      } else {
        timer = setTimeout(tick, POLL_MS);
      }
    }
  }

  // ---- stage actions ----------------------------------------------------------------------------------------------

  const dialog = document.getElementById('confirm');
  let pending;

  function nextLabel(c) {
    switch (c.stage) {
      case 'monolith':
        return 'shadow';
      case 'shadow':
        return 'canary (its first step)';
      case 'canary':
        return 'its next canary step, or cutover after the last one';
      case 'cutover':
        return 'retired';
      default:
        return undefined;
    }
  }

  function previousLabel(c) {
    switch (c.stage) {
      case 'retired':
        return 'cutover';
      case 'cutover':
        return 'canary (its last step)';
      case 'canary':
        return 'its previous canary step, or shadow from the first one';
      case 'shadow':
        return 'monolith';
      default:
        return undefined;
    }
  }

  function askConfirm(name, action, force) {
    const c = latest.get(name);
    const from = c ? stageLabel(c) : 'its current stage';
    let text;
    if (action === 'rollback') text = `Roll ${name} back from ${from} to ${c ? previousLabel(c) : 'the previous stage'}? Traffic moves back to the monolith side at once; a rollback is never gated.`;
    else if (force) text = `Force ${name} from ${from} to ${c ? nextLabel(c) : 'the next stage'} although gates failed? The failing gates are overridden.`;
    else text = `Advance ${name} from ${from} to ${c ? nextLabel(c) : 'the next stage'}? The gates are checked first.`;
    pending = { name, action, force };
    document.getElementById('confirm-title').textContent = action === 'rollback' ? 'Roll back?' : force ? 'Force advance?' : 'Advance?';
    document.getElementById('confirm-text').textContent = text;
    document.getElementById('confirm-yes').className = force || action === 'rollback' ? 'btn danger' : 'btn primary';
    document.getElementById('confirm-yes').textContent = action === 'rollback' ? 'Roll back' : force ? 'Force advance' : 'Advance';
    dialog.showModal();
  }

  function gateTable(gates) {
    if (!gates || !gates.length) return null;
    return h(
      'table',
      { class: 'gates' },
      h('thead', {}, h('tr', {}, h('th', {}, 'gate'), h('th', {}, 'result'), h('th', {}, 'numbers'))),
      h(
        'tbody',
        {},
        gates.map((g) => {
          const [cls, text] = g.pass === null ? ['pending', '◌ on Advance'] : g.pass ? ['pass', '✔ pass'] : ['fail', '✖ fail'];
          return h('tr', { 'data-gate': g.gate }, h('td', { class: 'mono' }, g.gate), h('td', { class: cls }, text), h('td', {}, g.detail));
        }),
      ),
    );
  }

  function showResult(name, kind, ...content) {
    const box = field(cards.get(name), 'result');
    box.className = `result ${kind}`;
    fill(box, content);
  }

  async function perform({ name, action, force }) {
    busy.add(name);
    const c = latest.get(name);
    if (c) renderStage(cards.get(name), c);
    showResult(name, 'busy', h('p', {}, action === 'rollback' ? 'Rolling back…' : force ? 'Forcing…' : 'Checking gates and advancing…'));
    try {
      const res = await fetch(`${API}/contexts/${encodeURIComponent(name)}/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', 'x-strangler-csrf': '1' },
        body: JSON.stringify(force ? { force: true } : {}),
      });
      const body = await res.json().catch(() => ({}));
      if (res.ok) {
        const moved = body.direction === 'none' ? `${name} is already at ${stageLabel(body.to)}` : `${name}: ${stageLabel(body.from)} → ${stageLabel(body.to)}${body.forced ? ' (forced)' : ''}`;
        showResult(
          name,
          'ok',
          h('h4', {}, `✔ ${moved}`),
          gateTable(body.gates),
          body.actions && body.actions.length ? h('ul', {}, body.actions.map((a) => h('li', {}, a))) : null,
          body.warnings && body.warnings.length ? h('ul', {}, body.warnings.map((w) => h('li', {}, `⚠ ${w}`))) : null,
        );
      } else if (res.status === 409 && body.error && body.error.code === 'gate_failed') {
        showResult(
          name,
          'bad',
          h('h4', {}, `✖ Gates refused to advance ${name}`),
          gateTable(body.error.details),
          h('div', { class: 'result-actions' }, h('button', { type: 'button', class: 'btn danger small', 'data-action': 'force', onclick: () => askConfirm(name, 'advance', true) }, 'Force advance…')),
        );
      } else {
        const error = body.error || { code: `http_${res.status}`, message: `HTTP ${res.status}` };
        showResult(name, 'bad', h('h4', {}, `✖ ${action === 'rollback' ? 'Rollback' : 'Advance'} refused`), h('p', {}, error.message), h('p', { class: 'muted mono' }, error.code));
      }
    } catch (err) {
      showResult(name, 'bad', h('h4', {}, '✖ The facade did not answer'), h('p', {}, err.message));
    } finally {
      busy.delete(name);
      void tick();
    }
  }

  for (const [name, card] of cards) {
    for (const action of ['advance', 'rollback']) card.querySelector(`[data-action="${action}"]`).addEventListener('click', () => askConfirm(name, action, false));
  }
  document.getElementById('confirm-no').addEventListener('click', () => {
    pending = undefined;
    dialog.close();
  });
  document.getElementById('confirm-yes').addEventListener('click', () => {
    const p = pending;
    pending = undefined;
    dialog.close();
    if (p) void perform(p);
  });
  dialog.addEventListener('cancel', () => {
    pending = undefined;
  });

  void tick();
})();
