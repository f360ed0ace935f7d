// The console's pages follow the jobs by themselves: every five seconds the page's content is fetched
// again and put in place, unless the operator is typing in a form. Nothing else runs here.
(function () {
  var live = document.getElementById('live');
  if (!live || !document.querySelector('nav')) return;
  setInterval(function () {
    var active = document.activeElement;
    if (document.hidden || (active && /INPUT|SELECT|TEXTAREA/.test(active.tagName))) return;
    fetch(location.href, {credentials: 'same-origin', redirect: 'manual'}).then(function (r) {
      if (r.status !== 200) return null;
      return r.text();
    }).then(function (html) {
      if (!html) return;
      var next = new DOMParser().parseFromString(html, 'text/html').getElementById('live');
      if (next) live.innerHTML = next.innerHTML;
    }).catch(function () {});
  }, 5000);
})();
