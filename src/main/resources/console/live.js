// The console's pages follow the jobs by themselves: every five seconds the page's content is fetched
// again and put in place, unless the operator is typing in a form or has changed a field without
// applying it yet, and never on a page where nothing moves (a finished job). Nothing else runs here.
(function () {
  var live = document.getElementById('live');
  if (!live || !document.querySelector('nav') || live.hasAttribute('data-still')) return;
  function edited() {
    var fields = live.querySelectorAll('input, select, textarea');
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f.type === 'hidden' || f.type === 'submit') continue;
      if (f.type === 'checkbox' || f.type === 'radio') {
        if (f.checked !== f.defaultChecked) return true;
      } else if (f.tagName === 'SELECT') {
        for (var j = 0; j < f.options.length; j++) {
          if (f.options[j].selected !== f.options[j].defaultSelected) return true;
        }
      } else if (f.value !== f.defaultValue) {
        return true;
      }
    }
    return false;
  }
  var timer = setInterval(function () {
    var active = document.activeElement;
    if (document.hidden || (active && /INPUT|SELECT|TEXTAREA/.test(active.tagName)) || edited()) return;
    fetch(location.href, {credentials: 'same-origin', redirect: 'manual'}).then(function (r) {
      if (r.status !== 200) return null;
      return r.text();
    }).then(function (html) {
      if (!html || edited()) return;
      var next = new DOMParser().parseFromString(html, 'text/html').getElementById('live');
      if (!next) return;
      live.innerHTML = next.innerHTML;
      if (next.hasAttribute('data-still')) clearInterval(timer);
    }).catch(function () {});
  }, 5000);
})();
