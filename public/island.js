// The page's only script of our own. Identity never comes from here: the server verified the user
// before rendering. This island only talks to the portal frame (BX24) and keeps htmx going:
//  - greets the user with BX24.callMethod('user.current') (display only) and fits the frame;
//  - finishes the install (BX24.installFinish) on the installer page;
//  - on a 401 from any htmx request, gets fresh auth from BX24.refreshAuth, exchanges it at
//    POST /api/session for a new app session, and repeats the request once, invisibly;
//  - shows HX-Trigger toasts, opens and closes the item dialog, downloads the export.
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

  function fit() { whenBx24().then(function (b) { if (b && b.fitWindow) b.fitWindow(); }); }

  function toast(kind, message) {
    var region = document.getElementById('toasts');
    if (!region || !message) return;
    var el = document.createElement('div');
    el.className = 'toast toast--' + (kind === 'error' ? 'error' : 'success');
    el.textContent = String(message);
    region.appendChild(el);
    while (region.children.length > 3) region.firstElementChild.remove();
    setTimeout(function () { el.remove(); }, kind === 'error' ? 7000 : 4000);
  }

  // ---- Session renewal --------------------------------------------------------------------------
  var renewing = null;
  function renewSession() {
    if (renewing) return renewing;
    renewing = whenBx24().then(function (b) {
      if (!b || !b.refreshAuth) throw new Error('not in Bitrix24');
      // A portal that cannot refresh (the app was removed) never answers: give up after 10 s.
      return new Promise(function (resolve, reject) {
        var timer = setTimeout(function () { reject(new Error('refreshAuth timed out')); }, 10000);
        b.refreshAuth(function (auth) { clearTimeout(timer); resolve(auth); });
      });
    }).then(function (auth) {
      if (!auth || !auth.access_token) throw new Error('no auth');
      return fetch(body.dataset.sessionUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ AUTH_ID: auth.access_token, REFRESH_ID: auth.refresh_token || undefined, DOMAIN: auth.domain, member_id: auth.member_id, LANG: body.dataset.lang })
      });
    }).then(function (res) {
      if (!res.ok) throw new Error('renewal refused');
      return res.json();
    }).then(function (session) {
      body.setAttribute('hx-headers', JSON.stringify({ Authorization: 'Bearer ' + session.token }));
      return session.token;
    }).finally(function () { renewing = null; });
    return renewing;
  }
  window.b24appRenewSession = renewSession;

  // Elements whose request is being repeated after a renewal: a second 401 there is final.
  var repeating = new WeakSet();
  document.addEventListener('htmx:afterRequest', function (evt) {
    var d = evt.detail;
    var cfg = d.requestConfig;
    if (!d.xhr || d.xhr.status !== 401 || !cfg || !cfg.elt) return;
    if (repeating.has(cfg.elt)) { repeating.delete(cfg.elt); toast('error', body.dataset.textExpired); return; }
    renewSession().then(function () {
      repeating.add(cfg.elt);
      return window.htmx.ajax(cfg.verb, cfg.path, { source: cfg.elt, target: cfg.target });
    }).then(function () { repeating.delete(cfg.elt); }, function () {
      repeating.delete(cfg.elt);
      toast('error', body.dataset.textExpired);
    });
  });

  // ---- Toasts, dialog, export -------------------------------------------------------------------
  // Server toasts name an error code; the page carries each code's text in the user's language.
  body.addEventListener('toast', function (evt) {
    var d = evt.detail || {};
    var key = d.code ? 'error' + String(d.code).replace(/(^|_)([a-z])/g, function (_, __, c) { return c.toUpperCase(); }) : '';
    toast(d.kind, (key && body.dataset[key]) || d.message);
  });
  document.addEventListener('htmx:sendError', function () { toast('error', body.dataset.textError); });
  document.addEventListener('htmx:responseError', function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr && xhr.status !== 401 && !xhr.getResponseHeader('HX-Trigger')) toast('error', body.dataset.textError);
  });

  function dialog() { return document.getElementById('dialog'); }
  body.addEventListener('openDialog', function () {
    var d = dialog();
    if (d && !d.open) d.showModal();
    // Browsers ignore autofocus in a cross-origin frame; focus the first field ourselves (the event
    // comes after the form has settled: HX-Trigger-After-Settle).
    var first = d && d.querySelector('input, textarea, select');
    if (first) first.focus();
    fit();
  });
  body.addEventListener('closeDialog', function () { var d = dialog(); if (d && d.open) d.close(); });
  document.addEventListener('click', function (evt) {
    var t = evt.target;
    if (!(t instanceof Element)) return;
    if (t.closest('[data-close-dialog]')) { var d = dialog(); if (d) d.close(); }
    if (t.closest('[data-export]')) downloadExport();
  });
  document.addEventListener('close', function (evt) {
    if (evt.target && evt.target.id === 'dialog') document.getElementById('dialog-body').innerHTML = '';
  }, true);

  function authHeader() {
    try { return JSON.parse(body.getAttribute('hx-headers') || '{}').Authorization; } catch (e) { return undefined; }
  }
  function downloadExport(retried) {
    fetch(body.dataset.exportUrl, { headers: { Authorization: authHeader() } }).then(function (res) {
      if (res.status === 401 && !retried) return renewSession().then(function () { downloadExport(true); });
      if (!res.ok) throw new Error('export failed');
      return res.blob().then(function (blob) {
        var a = document.createElement('a');
        a.href = URL.createObjectURL(blob);
        a.download = 'items.json';
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      });
    }).catch(function () { toast('error', body.dataset.textError); });
  }

  // ---- Frame size and the installer -------------------------------------------------------------
  document.addEventListener('htmx:afterSettle', fit);
  window.addEventListener('load', fit);
  // afterSettle alone misses swaps whose target leaves the page (the create form replaced by nothing
  // while its row arrives out of band, a deleted row): the frame then stayed one change behind. Any
  // change of the content's height refits, once per frame.
  if (window.ResizeObserver) {
    var pending = false;
    new ResizeObserver(function () {
      if (pending) return;
      pending = true;
      requestAnimationFrame(function () { pending = false; fit(); });
    }).observe(body);
  }
  if (body.dataset.install === 'finish') {
    whenBx24().then(function (b) {
      var status = document.getElementById('install-status');
      if (status) status.textContent = status.dataset.done;
      if (b && b.installFinish) b.installFinish();
    });
  }

  // ---- Alpine: the greeting (display only) ------------------------------------------------------
  document.addEventListener('alpine:init', function () {
    window.Alpine.data('greeting', function () {
      return {
        text: '',
        init: function () {
          var self = this;
          self.text = self.$el.textContent;
          var template = self.$el.dataset.greeting || '{name}';
          whenBx24().then(function (b) {
            if (!b || !b.callMethod) return;
            b.callMethod('user.current', {}, function (result) {
              if (result.error && result.error()) return;
              var u = result.data() || {};
              var name = [u.NAME, u.LAST_NAME].filter(Boolean).join(' ');
              if (name) self.text = template.replace('{name}', name);
              fit();
            });
          });
        }
      };
    });
  });
})();
