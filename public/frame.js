// The page's side of the portal frame (BX24), before island.js (assets.ts serves them as one script):
//  - BX24 readiness (whenBx24), shared with the island as window.b24appFrame;
//  - the frame's height follows the content both ways (BX24.fitWindow with the content's height);
//  - which part of the tall frame the portal shows (--view-top/--view-height for CSS);
//  - the portal's page title (BX24.setTitle) and the installer's BX24.installFinish.
(function () {
  'use strict';
  var body = document.body;
  var bx = function () { return window.BX24 && typeof window.BX24.init === 'function' ? window.BX24 : null; };
  var whenBx24 = (function () {
    var ready = null;
    return function () {
      if (!ready) ready = new Promise(function (resolve) { var b = bx(); if (b) b.init(function () { resolve(b); }); else resolve(null); });
      return ready;
    };
  })();

  // ---- Frame height ------------------------------------------------------------------------------
  // BX24.fitWindow sends {width: '100%', height: getScrollSize().scrollHeight}; a document's scrollHeight
  // is never less than its frame's height, so the frame could grow but never shrink. The content's own
  // height is the body's; an open dialog (top layer, outside the body's flow) must fit as well. The
  // library reads BX24.getScrollSize() when fitWindow runs, so for that call it answers the content
  // height (resizeWindow itself would turn '100%' into 100 px).
  function contentHeight() {
    var h = body.getBoundingClientRect().height;
    var d = document.getElementById('dialog');
    if (d && d.open) h = Math.max(h, d.getBoundingClientRect().bottom - document.documentElement.getBoundingClientRect().top + 16);
    return Math.ceil(h);
  }
  var lastHeight = 0;
  function fit() {
    whenBx24().then(function (b) {
      if (!b || !b.fitWindow) return;
      var height = contentHeight();
      if (height === lastHeight) return;
      lastHeight = height;
      var own = b.getScrollSize;
      b.getScrollSize = function () { var s = own ? own.call(b) : {}; return { scrollWidth: s.scrollWidth, scrollHeight: height }; };
      try { b.fitWindow(); } finally { b.getScrollSize = own; }
    });
  }

  // ---- Where the user is looking ----------------------------------------------------------------
  // In the portal the frame is as tall as the app and the portal page scrolls, so "fixed" in the frame
  // means fixed to the whole tall frame: a toast at its top is thousands of pixels away from a user who
  // works at the bottom. A cross-origin frame cannot read the portal's scroll position, but an
  // IntersectionObserver reports which part of each element the top-level viewport shows. A column of
  // invisible 50 px probes down the page, each reporting in 5 px steps, gives the visible band; it goes
  // to CSS as --view-top/--view-height, which place the dialog, the toasts and the progress bar.
  var PROBE = 50;
  var seen = new Map();
  var probes = document.createElement('div');
  probes.className = 'view-probes';
  probes.setAttribute('aria-hidden', 'true');
  function publishView() {
    var top = Infinity, bottom = -Infinity;
    seen.forEach(function (r) { if (r) { top = Math.min(top, r.top); bottom = Math.max(bottom, r.bottom); } });
    if (top === Infinity) return; // the frame is scrolled out of sight: keep the last band
    var root = document.documentElement.style;
    root.setProperty('--view-top', Math.max(0, Math.round(top)) + 'px');
    root.setProperty('--view-height', Math.round(bottom - Math.max(0, top)) + 'px');
  }
  var thresholds = [];
  for (var i = 0; i <= 10; i++) thresholds.push(i / 10);
  var probeObserver = window.IntersectionObserver ? new IntersectionObserver(function (entries) {
    entries.forEach(function (e) { seen.set(e.target, e.isIntersecting && e.intersectionRect.height > 0 ? e.intersectionRect : null); });
    publishView();
  }, { threshold: thresholds }) : null;
  function layProbes() {
    if (!probeObserver) return;
    // Cover the frame, never extend it: the column is as tall as the content or the frame's viewport.
    var height = Math.max(Math.ceil(body.getBoundingClientRect().height), window.innerHeight);
    probes.style.height = height + 'px';
    var want = Math.ceil(height / PROBE);
    while (probes.children.length < want) {
      var p = document.createElement('div');
      probes.appendChild(p);
      probeObserver.observe(p);
    }
    while (probes.children.length > want) {
      var last = probes.lastElementChild;
      probeObserver.unobserve(last);
      seen.delete(last);
      last.remove();
    }
  }
  document.documentElement.appendChild(probes);
  layProbes();

  // ---- Frame size and the installer -------------------------------------------------------------
  document.addEventListener('htmx:afterSettle', fit);
  window.addEventListener('load', fit);
  // The portal's page title (above the frame) names the app in the user's language. Only the cabinet
  // sets it: the installer's page title is not the app's.
  if (document.getElementById('item-list')) whenBx24().then(function (b) { if (b && b.setTitle) b.setTitle(document.title); });
  // afterSettle alone misses swaps whose target leaves the page (the create form replaced by nothing
  // while its row arrives out of band, a deleted row): the frame then stayed one change behind. Any
  // change of the content's height refits, once per frame.
  if (window.ResizeObserver) {
    var pending = false;
    new ResizeObserver(function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; layProbes(); fit(); });
    }).observe(body);
  }
  // The frame's own size changes (the portal applied a resize, or the window is narrower): more probes.
  window.addEventListener('resize', layProbes);
  if (body.dataset.install === 'finish') {
    whenBx24().then(function (b) {
      var status = document.getElementById('install-status');
      if (status) status.textContent = status.dataset.done;
      if (b && b.installFinish) b.installFinish();
    });
  }

  window.b24appFrame = { whenBx24: whenBx24, fit: fit };
})();
