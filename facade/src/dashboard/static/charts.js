/* global document, window */
// Small line charts drawn as SVG by hand: no library, no CDN, nothing but what this file does. Values go in as
// numbers and text nodes only. Exposed as window.StranglerCharts for dashboard.js.
'use strict';

(() => {
  const SVG = 'http://www.w3.org/2000/svg';
  const W = 300;
  const H = 90;
  const PAD = { left: 4, right: 4, top: 6, bottom: 14 };

  function el(tag, attrs, text) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** A "nice" top for the y axis: 1, 2 or 5 times a power of ten, at least `floor`. */
  function niceMax(max, floor) {
    const m = Math.max(max, floor);
    const p = 10 ** Math.floor(Math.log10(m));
    for (const f of [1, 2, 5, 10]) if (f * p >= m) return f * p;
    return 10 * p;
  }

  /**
   * Draws into `box` (an element; its content is replaced): `lines` = [{ name, cls, values: [number|null] }], all
   * sharing `times` (epoch ms). `markers` = [{ t, label }] become dashed vertical lines. `format(v)` writes a value
   * for the axis label. Gaps (null) break a line rather than drawing zero.
   */
  function line(box, { times, lines, markers = [], format = String, floor = 1, fixedMax, label }) {
    const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart-svg', role: 'img', 'aria-label': label, preserveAspectRatio: 'none' });
    svg.append(el('title', {}, label));
    const n = times.length;
    const all = lines.flatMap((l) => l.values).filter((v) => v !== null && v !== undefined);
    const top = fixedMax ?? niceMax(all.length ? Math.max(...all) : 0, floor);
    const t0 = n ? times[0] : 0;
    const t1 = n ? times[n - 1] : 1;
    const x = (t) => PAD.left + (t1 === t0 ? W - PAD.left - PAD.right : ((t - t0) / (t1 - t0)) * (W - PAD.left - PAD.right));
    const y = (v) => PAD.top + (1 - Math.min(v, top) / top) * (H - PAD.top - PAD.bottom);

    svg.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0), class: 'chart-axis' }));
    svg.append(el('line', { x1: PAD.left, x2: W - PAD.right, y1: y(top), y2: y(top), class: 'chart-grid' }));
    svg.append(el('text', { x: W - PAD.right, y: PAD.top + 8, class: 'chart-label', 'text-anchor': 'end' }, format(top)));
    if (n) {
      const seconds = Math.round((t1 - t0) / 1000);
      svg.append(el('text', { x: PAD.left, y: H - 2, class: 'chart-label' }, seconds >= 60 ? `${Math.round(seconds / 60)} min ago` : `${seconds} s ago`));
      svg.append(el('text', { x: W - PAD.right, y: H - 2, class: 'chart-label', 'text-anchor': 'end' }, 'now'));
    }
    for (const m of markers) {
      if (m.t < t0 || m.t > t1) continue;
      const g = el('g', { class: 'chart-marker', 'data-marker': m.label });
      g.append(el('title', {}, m.label));
      g.append(el('line', { x1: x(m.t), x2: x(m.t), y1: PAD.top, y2: y(0) }));
      svg.append(g);
    }
    for (const l of lines) {
      let d = '';
      let pen = false;
      let points = 0;
      l.values.forEach((v, i) => {
        if (v === null || v === undefined) {
          pen = false;
          return;
        }
        d += `${pen ? 'L' : 'M'}${x(times[i]).toFixed(1)},${y(v).toFixed(1)}`;
        pen = true;
        points++;
      });
      if (!points) continue;
      const path = el('path', { d, class: `chart-line ${l.cls}`, 'data-series': l.name, 'data-points': points });
      path.append(el('title', {}, l.name));
      svg.append(path);
      // A lone point draws no line: show it as a dot.
      if (points === 1) {
        const [, cx, cy] = /M([\d.]+),([\d.]+)/.exec(d);
        svg.append(el('circle', { cx, cy, r: 2.5, class: `chart-dot ${l.cls}` }));
      }
    }
    box.replaceChildren(svg);
  }

  window.StranglerCharts = { line };
})();
