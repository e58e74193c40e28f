// Placeholder-free island: filled in by the cabinet (BX24.init, user greeting, fitWindow, session renewal).
(function () {
  'use strict';
  function fit() { if (window.BX24 && BX24.fitWindow) BX24.fitWindow(); }
  if (window.BX24 && BX24.init) BX24.init(fit);
  document.addEventListener('htmx:afterSettle', fit);
})();
