// cozeauth console: small progressive enhancements. Every page works without
// this file; CSP allows only same-origin scripts, so nothing here is inline.
(function () {
  'use strict';

  // Dates: the server writes UTC; show them in the browser's locale and zone.
  var lang = document.documentElement.lang || undefined;
  document.querySelectorAll('time[datetime]').forEach(function (t) {
    var d = new Date(t.getAttribute('datetime'));
    if (isNaN(d.getTime())) return;
    t.title = t.textContent;
    try {
      t.textContent = d.toLocaleString(lang, { dateStyle: 'medium', timeStyle: 'short' });
    } catch (e) {
      t.textContent = d.toLocaleString();
    }
  });

  // Copy buttons: shown only when they can work.
  document.querySelectorAll('button[data-copy]').forEach(function (b) {
    var input = document.getElementById(b.getAttribute('data-copy'));
    var status = document.getElementById('copy-status');
    if (!input) return;
    b.hidden = false;
    function done(ok) {
      if (status) status.textContent = status.getAttribute(ok ? 'data-done' : 'data-failed') || '';
    }
    b.addEventListener('click', function () {
      input.focus();
      input.select();
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(input.value).then(function () { done(true); }, function () {
          done(document.execCommand && document.execCommand('copy'));
        });
      } else {
        done(document.execCommand && document.execCommand('copy'));
      }
    });
  });

  // Token form: the date input only matters for "Custom date"; only the
  // chosen account's workspaces can be ticked.
  var exp = document.getElementById('expiration');
  var custom = document.getElementById('custom-date-field');
  if (exp && custom) {
    var syncDate = function () { custom.hidden = exp.value !== 'custom'; };
    exp.addEventListener('change', syncDate);
    syncDate();
  }
  var accounts = document.querySelectorAll('input[name="account"]');
  var groups = document.querySelectorAll('fieldset.wsgroup[data-account]');
  if (accounts.length > 0 && groups.length > 1) {
    var syncWS = function () {
      var chosen = document.querySelector('input[name="account"]:checked');
      groups.forEach(function (g) { g.hidden = !chosen || g.getAttribute('data-account') !== chosen.value; });
    };
    accounts.forEach(function (a) { a.addEventListener('change', syncWS); });
    syncWS();
  }
})();
