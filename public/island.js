// The page's script of our own, after frame.js (its BX24 readiness and frame fitting). Identity never
// comes from here: the server verified the user before rendering. The island keeps htmx going:
//  - greets the user with BX24.callMethod('user.current') (display only);
//  - on a 401 from any htmx request, gets fresh auth from BX24.refreshAuth, exchanges it at
//    POST /api/session for a new app session, and repeats the request once, invisibly;
//  - shows HX-Trigger toasts, opens and closes the item dialog, downloads the export;
//  - sends the list's filter and the browser's time zone with every request;
//  - moves the focus after each change to the changed row or the next sensible element;
//  - row menus, long notes, Escape in an inline edit;
//  - the calendar badge opens the event in the portal's slider (BX24.openPath), else a new tab.
(function () {
  'use strict';
  var body = document.body;
  var frame = window.b24appFrame;
  var whenBx24 = frame.whenBx24, fit = frame.fit;

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
      // The server says why: the app was removed (401 not_installed), or Bitrix24 did not answer (503).
      if (res.status === 503) throw new Error('unavailable');
      if (!res.ok) return res.json().catch(function () { return {}; }).then(function (b) {
        throw new Error(b && b.error && b.error.code === 'not_installed' ? 'not_installed' : 'renewal refused');
      });
      return res.json();
    }).then(function (session) {
      body.setAttribute('hx-headers', JSON.stringify({ Authorization: 'Bearer ' + session.token }));
      return session.token;
    }).finally(function () { renewing = null; });
    return renewing;
  }

  // Elements whose request is being repeated after a renewal: a second 401 there is final.
  var repeating = new WeakSet();
  document.addEventListener('htmx:afterRequest', function (evt) {
    var d = evt.detail;
    var cfg = d.requestConfig;
    if (!d.xhr || d.xhr.status !== 401 || !cfg || !cfg.elt) return;
    // The app was removed from the portal: the server's toast says so; renewing cannot help.
    if (d.xhr.getResponseHeader('X-Error-Code') === 'not_installed') return;
    if (repeating.has(cfg.elt)) { repeating.delete(cfg.elt); toast('error', body.dataset.textExpired); return; }
    renewSession().then(function () {
      repeating.add(cfg.elt);
      return window.htmx.ajax(cfg.verb, cfg.path, { source: cfg.elt, target: cfg.target });
    }).then(function () { repeating.delete(cfg.elt); }, function (e) {
      repeating.delete(cfg.elt);
      var why = e && e.message;
      toast('error', why === 'not_installed' ? body.dataset.errorNotInstalled : why === 'unavailable' ? body.dataset.errorUnavailable : body.dataset.textExpired);
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
  // Where focus returns when the dialog closes without creating anything: the button that opened it.
  var opener = null;
  body.addEventListener('openDialog', function () {
    var d = dialog();
    if (d && !d.open) {
      opener = document.activeElement instanceof HTMLElement && document.activeElement !== body ? document.activeElement : null;
      // Placed once, in the band the user sees now; it then stays put like the page under it (a dialog
      // that followed every scroll would move under the pointer).
      var root = getComputedStyle(document.documentElement);
      var top = parseFloat(root.getPropertyValue('--view-top')) || 0;
      var height = parseFloat(root.getPropertyValue('--view-height')) || window.innerHeight;
      d.style.insetBlockStart = (top + 16) + 'px';
      d.style.maxHeight = Math.max(240, height - 32) + 'px';
      d.showModal();
    }
    // Browsers ignore autofocus in a cross-origin frame; focus the first field ourselves (the event
    // comes after the form has settled: HX-Trigger-After-Settle). The dialog sits in the visible band,
    // so this focus scrolls nothing.
    var first = d && d.querySelector('#dialog-body input:not([type=hidden]), #dialog-body textarea, #dialog-body select');
    if (first) first.focus({ preventScroll: true });
    fit();
  });
  body.addEventListener('closeDialog', function () { var d = dialog(); if (d && d.open) { opener = null; d.close(); } });
  document.addEventListener('click', function (evt) {
    var t = evt.target;
    if (!(t instanceof Element)) return;
    if (t.closest('[data-close-dialog]')) { var d = dialog(); if (d) d.close(); }
    if (t.closest('[data-export]')) downloadExport();
  });
  document.addEventListener('close', function (evt) {
    if (!evt.target || evt.target.id !== 'dialog') return;
    document.getElementById('dialog-body').innerHTML = '';
    if (opener && opener.isConnected) opener.focus({ preventScroll: true });
    opener = null;
    fit();
  }, true);

  // ---- The list stays true to its filter -------------------------------------------------------
  // Every request says what the list shows (the search form, URL-encoded, so ASCII), and the server
  // leaves out or removes rows that a change took out of it.
  // And the browser's time zone, used for users who have none in Bitrix24 (IANA names are ASCII).
  var browserZone = '';
  try { browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { browserZone = ''; }
  document.addEventListener('htmx:configRequest', function (evt) {
    var filters = document.getElementById('filters');
    if (filters) evt.detail.headers['X-List-Filter'] = new URLSearchParams(new FormData(filters)).toString();
    if (browserZone) evt.detail.headers['X-Time-Zone'] = browserZone;
  });
  // The page was rendered before the server knew the browser's zone: show the list again in it.
  document.addEventListener('htmx:load', function once(evt) {
    if (evt.target !== body) return;
    document.removeEventListener('htmx:load', once);
    var zone = body.dataset.zone;
    var filters = document.getElementById('filters');
    if (zone && zone !== 'bitrix' && browserZone && zone !== browserZone && filters) window.htmx.trigger(filters, 'submit');
  });

  // ---- Focus after a change ---------------------------------------------------------------------
  // Swaps replace the focused button with new HTML, which drops the focus to <body>. Put it where the
  // user's attention is: the changed row; after a delete the next row (else the previous, else the
  // search box); after "load more" the first new row; after a refused form its first invalid field.
  function focusEl(el) {
    if (!el) return;
    if (el.classList.contains('item-row') && !el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
    el.focus();
  }
  body.addEventListener('focusRow', function (evt) { focusEl(document.getElementById(evt.detail && evt.detail.value)); });
  var pendingFocus = new WeakMap();
  document.addEventListener('htmx:beforeRequest', function (evt) {
    var elt = evt.detail.elt;
    var row = elt && elt.closest && elt.closest('.item-row');
    var plan = { inDialog: Boolean(elt && elt.closest && elt.closest('#dialog')) };
    if (row) {
      plan.rowId = row.id;
      var next = row.nextElementSibling, prev = row.previousElementSibling;
      while (next && !next.classList.contains('item-row')) next = next.nextElementSibling;
      while (prev && !prev.classList.contains('item-row')) prev = prev.previousElementSibling;
      plan.afterDelete = (next && next.id) || (prev && prev.id) || null;
    }
    var more = elt && elt.closest && elt.closest('#load-more');
    if (more) { var before = more.previousElementSibling; plan.afterRowId = before && before.id; }
    pendingFocus.set(elt, plan);
  });
  // A deleted row leaves nothing to settle (and events on removed elements reach no listener), so the
  // delete is handled when its swap is about to run; htmx swaps synchronously right after this event.
  // The same when a change removes its row (gone elsewhere, or hidden by the filter: HX-Reswap: delete).
  document.addEventListener('htmx:beforeSwap', function (evt) {
    var d = evt.detail, cfg = d.requestConfig;
    // A 404 that removes its row (the item is gone): swap it, it is not an error of the page.
    if (d.xhr && d.xhr.status === 404 && d.xhr.getResponseHeader('HX-Reswap') === 'delete') { d.shouldSwap = true; d.isError = false; }
    var plan = cfg && pendingFocus.get(cfg.elt);
    if (!plan || !d.xhr || (d.xhr.status >= 300 && !d.shouldSwap)) return;
    if (cfg.verb !== 'delete' && d.xhr.getResponseHeader('HX-Reswap') !== 'delete') return;
    pendingFocus.delete(cfg.elt);
    setTimeout(function () { focusEl((plan.afterDelete && document.getElementById(plan.afterDelete)) || document.getElementById('q')); }, 0);
  });
  // Fired on each settled element with the request's details (detail.elt is the settled element; the
  // requesting one is requestConfig.elt).
  document.addEventListener('htmx:afterSettle', function (evt) {
    var d = evt.detail, xhr = d.xhr, cfg = d.requestConfig;
    var plan = cfg && pendingFocus.get(cfg.elt);
    if (!xhr || !plan) return;
    pendingFocus.delete(cfg.elt);
    var target = d.target && d.target.isConnected ? d.target : null;
    if (xhr.status === 422 || xhr.status === 409) {
      var form = (plan.rowId && document.getElementById(plan.rowId)) || (plan.inDialog && document.getElementById('dialog-body')) || target;
      var invalid = form && (form.querySelector('[aria-invalid=true]') || form.querySelector('input:not([type=hidden]), textarea, select'));
      if (invalid) invalid.focus();
      return;
    }
    if (xhr.status >= 300) return;
    if (plan.afterRowId !== undefined) {
      var first = plan.afterRowId ? document.getElementById(plan.afterRowId) : null;
      first = first ? first.nextElementSibling : document.querySelector('#item-list .item-row');
      if (first && first.classList.contains('item-row')) focusEl(first);
      return;
    }
    if (plan.rowId) {
      var row = document.getElementById(plan.rowId);
      if (!row) return;
      // Into an edit form: its first field; back to a row (saved, archived, restored, cancelled): the row.
      if (row.classList.contains('item-row--editing')) { var field = row.querySelector('input:not([type=hidden])'); if (field) field.focus(); }
      else focusEl(row);
    }
  });
  // ---- Row menus and long notes ----------------------------------------------------------------
  // One row menu open at a time; a click elsewhere or Escape closes it (Escape gives the focus back to
  // its toggle). A menu item's own request closes its menu as well.
  function closeMenus(except) {
    document.querySelectorAll('details.row-menu[open]').forEach(function (m) { if (m !== except) m.removeAttribute('open'); });
  }
  document.addEventListener('click', function (evt) {
    var t = evt.target instanceof Element ? evt.target : null;
    var menu = t && t.closest('details.row-menu');
    closeMenus(menu && !t.closest('.row-menu__item') ? menu : null);
  });
  document.addEventListener('keydown', function (evt) {
    if (evt.key !== 'Escape' || !(evt.target instanceof Element)) return;
    var menu = evt.target.closest('details.row-menu[open]');
    if (menu) { evt.preventDefault(); menu.removeAttribute('open'); menu.querySelector('summary').focus(); }
  });
  // Clamped notes get their "show more" only when they overflow (measured after every swap).
  function markLongNotes(root) {
    (root || document).querySelectorAll('.link-more[hidden]').forEach(function (btn) {
      var notes = document.getElementById(btn.getAttribute('aria-controls'));
      if (notes && notes.scrollHeight > notes.clientHeight + 1) btn.hidden = false;
    });
  }
  document.addEventListener('click', function (evt) {
    var btn = evt.target instanceof Element ? evt.target.closest('.link-more') : null;
    var notes = btn && document.getElementById(btn.getAttribute('aria-controls'));
    if (!notes) return;
    var open = notes.classList.toggle('item-row__notes--open');
    btn.setAttribute('aria-expanded', String(open));
    btn.textContent = open ? btn.dataset.less : btn.dataset.more;
  });
  document.addEventListener('htmx:afterSettle', function () { markLongNotes(); });
  window.addEventListener('load', function () { markLongNotes(); });

  // ---- The calendar badge opens the event in Bitrix24 -------------------------------------------
  // In the portal frame: BX24.openPath shows the event in the portal's slider. Where there is no
  // openPath (outside Bitrix24, an older library) the link itself opens the portal page in a new tab;
  // where the portal refuses it (answers {result:'error'}: mobile app, path not available), the same
  // page opens in a new tab. A click with a modifier key is the user's own choice of where to open it.
  document.addEventListener('click', function (evt) {
    var link = evt.target instanceof Element ? evt.target.closest('a[data-open-path]') : null;
    if (!link || evt.defaultPrevented || evt.button !== 0 || evt.ctrlKey || evt.metaKey || evt.shiftKey || evt.altKey) return;
    var b = window.BX24;
    if (!b || typeof b.openPath !== 'function') return;
    evt.preventDefault();
    var href = link.href;
    var fallback = function () { window.open(href, '_blank', 'noopener'); };
    try {
      b.openPath(link.getAttribute('data-open-path'), function (answer) {
        if (answer && answer.result === 'error') fallback();
      });
    } catch (e) {
      fallback();
    }
  });

  // Escape in an inline edit cancels it, as its Cancel button does.
  document.addEventListener('keydown', function (evt) {
    if (evt.key !== 'Escape' || !(evt.target instanceof Element)) return;
    var editing = evt.target.closest('.item-row--editing');
    var cancel = editing && editing.querySelector('[data-cancel-edit]');
    if (cancel) { evt.preventDefault(); cancel.click(); }
  });

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
