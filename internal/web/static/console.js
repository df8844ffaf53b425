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

  // Time zone: name the browser's zone where the page mentions one, and post
  // it with the token form so a custom date ends at the end of that day there.
  var tz = '';
  try { tz = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { tz = ''; }
  if (tz) {
    document.querySelectorAll('[data-zone]').forEach(function (s) { s.textContent = tz; });
    document.querySelectorAll('input[data-zone-input]').forEach(function (i) { i.value = tz; });
  }

  // Slow buttons (sign in, generate a key pair, migrate): once the form is
  // sent, the button is disabled and says it is working, and a second submit
  // is ignored. A page restored from the back-forward cache is usable again.
  document.querySelectorAll('button[data-busy]').forEach(function (b) {
    var form = b.form;
    if (!form) return;
    var label = b.textContent;
    form.addEventListener('submit', function (ev) {
      if (form.getAttribute('aria-busy') === 'true') { ev.preventDefault(); return; }
      form.setAttribute('aria-busy', 'true');
      setTimeout(function () { // after the browser has collected the form
        b.disabled = true;
        b.textContent = b.getAttribute('data-busy');
      }, 0);
    });
    window.addEventListener('pageshow', function (ev) {
      if (!ev.persisted) return;
      form.removeAttribute('aria-busy');
      b.disabled = false;
      b.textContent = label;
    });
  });

  // Phones: the console navigation is a menu behind its button (CSS shows
  // the button only on narrow screens).
  var nav = document.getElementById('console-nav');
  var toggle = nav && nav.querySelector('.menu-toggle');
  if (toggle) {
    toggle.hidden = false;
    nav.classList.add('js-menu');
    toggle.addEventListener('click', function () {
      var open = nav.classList.toggle('open');
      toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    });
  }

  // Copy buttons: shown only when they can work.
  document.querySelectorAll('button[data-copy]').forEach(function (b) {
    var input = document.getElementById(b.getAttribute('data-copy'));
    var field = b.closest('.field');
    var status = (field && field.querySelector('[role="status"]')) || document.getElementById('copy-status');
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
  // Permission picker: a group's "select all" box ticks or clears the whole
  // group, and shows whether all (ticked), some (mixed) or none of it is
  // ticked. Without this script the box still works: the server grants the
  // whole group when it is posted ticked.
  document.querySelectorAll('input[data-permgroup]').forEach(function (all) {
    var boxes = document.querySelectorAll('input[name="perm"][data-group="' + all.getAttribute('data-permgroup') + '"]');
    if (boxes.length === 0) return;
    var sync = function () {
      var n = 0;
      boxes.forEach(function (b) { if (b.checked) n++; });
      all.checked = n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    };
    all.addEventListener('change', function () {
      boxes.forEach(function (b) { b.checked = all.checked; });
      all.indeterminate = false;
    });
    boxes.forEach(function (b) { b.addEventListener('change', sync); });
    sync();
  });

  // App form: redirect URIs matter only for web and PKCE apps.
  var redirect = document.getElementById('redirect-field');
  var types = document.querySelectorAll('input[name="client_type"]');
  if (redirect && types.length > 0) {
    var syncType = function () {
      var t = document.querySelector('input[name="client_type"]:checked');
      redirect.hidden = !!t && t.value !== 'WebBackend' && t.value !== 'SinglePageOrNative';
    };
    types.forEach(function (t) { t.addEventListener('change', syncType); });
    syncType();
  }

  // Download buttons: save a shown-once value (the private key) as a file.
  // A blob: URL, made here, since CSP allows no data: navigation.
  document.querySelectorAll('button[data-download]').forEach(function (b) {
    var input = document.getElementById(b.getAttribute('data-download'));
    if (!input || !window.Blob || !URL.createObjectURL) return;
    b.hidden = false;
    b.addEventListener('click', function () {
      var url = URL.createObjectURL(new Blob([input.value], { type: 'application/x-pem-file' }));
      var a = document.createElement('a');
      a.href = url;
      a.download = b.getAttribute('data-filename') || 'private_key.pem';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    });
  });
})();
