/**
 * The admin page: one self-contained document (no CDN, no framework) that polls `/api/status`. Every value
 * from the gateway is inserted as text, never as HTML: tool names and errors come from upstream servers.
 */
export const ADMIN_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>mcp-gateway admin</title>
<style>
  :root { color-scheme: light dark; --muted: #6b7280; --ok: #15803d; --bad: #b91c1c; --line: #d1d5db; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.05rem; margin: 1.5rem 0 .5rem; }
  .meta { color: var(--muted); }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-weight: 600; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .ok, .connected { color: var(--ok); font-weight: 600; }
  .error, .failed, .denied { color: var(--bad); font-weight: 600; }
  .unknown { color: var(--muted); }
  pre { background: rgba(127,127,127,.1); padding: .75rem; overflow: auto; max-height: 30rem; }
  code { font-family: ui-monospace, monospace; }
</style>
</head>
<body>
<h1>mcp-gateway</h1>
<div class="meta" id="summary">loading…</div>
<h2>Routes and targets</h2>
<table id="targets">
<thead><tr>
  <th>route</th>
  <th>target</th>
  <th>kind</th>
  <th>endpoint</th>
  <th>health</th>
  <th>last error</th>
</tr></thead>
<tbody></tbody></table>
<h2>Sessions</h2>
<table id="sessions">
<thead><tr>
  <th>session</th>
  <th>route</th>
  <th>subject</th>
  <th>protocol</th>
  <th class="num">age s</th>
  <th class="num">idle s</th>
</tr></thead>
<tbody></tbody></table>
<h2>stdio processes</h2>
<table id="processes"><thead><tr><th>route</th><th>target</th><th>pid</th><th>role</th><th>started</th></tr></thead><tbody></tbody></table>
<h2>stdio pools</h2>
<table id="pools">
<thead><tr>
  <th>route</th>
  <th>target</th>
  <th>mode</th>
  <th class="num">size</th>
  <th class="num">ready spares</th>
  <th class="num">sessions on shared process</th>
</tr></thead>
<tbody></tbody></table>
<h2>Users' upstream connections <span class="meta">(who connected which provider; never a token)</span></h2>
<table id="connections">
<thead><tr>
  <th>issuer</th>
  <th>subject</th>
  <th>provider</th>
  <th>updated</th>
  <th>token expires</th>
</tr></thead>
<tbody></tbody></table>
<h2>Recent calls</h2>
<table id="calls">
<thead><tr>
  <th>time</th>
  <th>route</th>
  <th>target</th>
  <th>method</th>
  <th>name</th>
  <th>outcome</th>
  <th class="num">ms</th>
  <th>error</th>
</tr></thead>
<tbody></tbody></table>
<h2>Effective configuration <span class="meta">(secrets redacted)</span></h2>
<pre><code id="config"></code></pre>
<script>
(function () {
  function cell(text, className) {
    var td = document.createElement('td');
    td.textContent = text === undefined || text === null ? '' : String(text);
    if (className) td.className = className;
    return td;
  }
  function fill(id, rows, empty) {
    var body = document.querySelector('#' + id + ' tbody');
    body.replaceChildren();
    if (rows.length === 0) {
      var tr = document.createElement('tr');
      var td = cell(empty, 'unknown');
      td.colSpan = document.querySelectorAll('#' + id + ' th').length;
      tr.appendChild(td);
      body.appendChild(tr);
      return;
    }
    rows.forEach(function (cells) {
      var tr = document.createElement('tr');
      cells.forEach(function (c) { tr.appendChild(c); });
      body.appendChild(tr);
    });
  }
  function render(s) {
    document.getElementById('summary').textContent =
      'version ' + s.version + ' · ' + (s.ready ? 'ready' : 'not ready') + ' · config ' + s.configSource +
      ' · ports ' + s.ports.join(', ') + ' · ' + s.sessions.length + ' session(s) · updated ' + new Date().toLocaleTimeString();
    var targets = [];
    s.routes.forEach(function (r) {
      r.targets.forEach(function (t) {
        targets.push([cell(r.name), cell(t.name), cell(t.kind), cell(t.endpoint), cell(t.health.state, t.health.state),
          cell(t.health.lastError ? t.health.lastError + ' (' + t.health.lastErrorAt + ')' : '')]);
      });
    });
    fill('targets', targets, 'no routes');
    fill('sessions', s.sessions.map(function (x) {
      return [cell(x.id), cell(x.route), cell(x.subject), cell(x.protocolVersion), cell(x.ageS, 'num'), cell(x.idleS, 'num')];
    }), 'no sessions');
    var processes = [];
    s.routes.forEach(function (r) {
      r.stdioProcesses.forEach(function (p) { processes.push([cell(r.name), cell(p.target), cell(p.pid), cell(p.role), cell(p.startedAt)]); });
    });
    fill('processes', processes, 'no stdio processes');
    var pools = [];
    s.routes.forEach(function (r) {
      (r.stdioPools || []).forEach(function (p) {
        pools.push([cell(r.name), cell(p.target), cell(p.shared ? 'shared' : 'warm'),
          cell(p.size, 'num'), cell(p.readySpares, 'num'), cell(p.sharedSessions, 'num')]);
      });
    });
    fill('pools', pools, 'no warm pool or shared process (stdio pool.size 0)');
    fill('calls', s.recentCalls.map(function (c) {
      return [cell(c.at), cell(c.route), cell(c.target), cell(c.method), cell(c.name), cell(c.outcome, c.outcome),
        cell(c.durationMs, 'num'), cell(c.error)];
    }), 'no calls yet');
    document.getElementById('config').textContent = JSON.stringify(s.config, null, 2);
    if (!s.userCredentials) fill('connections', [], 'config.credentials is not set');
    else {
      fetch('api/connections', { cache: 'no-store' })
        .then(function (r) { return r.json(); })
        .then(function (c) {
          fill('connections', c.connections.map(function (x) {
            return [cell(x.issuer), cell(x.subject), cell(x.provider), cell(x.updatedAt), cell(x.expiresAt)];
          }), 'nobody has connected a provider (' + c.store + ' store)');
        })
        .catch(function () { fill('connections', [], 'cannot read the credential store'); });
    }
  }
  function poll() {
    fetch('api/status', { cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(render)
      .catch(function (e) { document.getElementById('summary').textContent = 'cannot load status: ' + e.message; })
      .finally(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
</script>
</body>
</html>
`;
