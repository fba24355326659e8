/**
 * The live dashboard: one page, inline CSS and JS, no build step and nothing fetched from elsewhere. It reads the
 * bearer token from `?access_token=` (then drops it from the address bar and keeps it in sessionStorage) or from its
 * token field, and sends it as the Authorization header on every call: GET overview, the JSON API for peek, purge and
 * redrive, and the event stream, read with fetch streaming because EventSource cannot send headers.
 * Rendering uses textContent only: queue names and message bodies never become markup.
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nestjs-messaging admin</title>
<style>
:root{--bg:#f5f6f8;--card:#fff;--line:#d8dce3;--text:#1d2330;--muted:#5a6372;--accent:#2f6fde;--warn:#b3261e;--ok:#1e7b34}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--text)}
header{display:flex;align-items:center;gap:16px;padding:12px 20px;background:#1d2330;color:#fff}
header h1{font-size:16px;margin:0;font-weight:600}
header .transport{color:#b9c4d6}
#live{margin-left:auto;display:flex;align-items:center;gap:6px;color:#b9c4d6}
#live::before{content:"";width:9px;height:9px;border-radius:50%;background:#8a93a3}
#live.on::before{background:#3ccf62}
#login{display:none;gap:8px;align-items:center}
#login.shown{display:flex}
#login input{padding:5px 8px;border-radius:4px;border:0;min-width:220px}
main{padding:16px 20px;display:grid;gap:16px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden}
section h2{font-size:14px;margin:0;padding:10px 14px;border-bottom:1px solid var(--line);background:#fafbfc}
table{width:100%;border-collapse:collapse}
th,td{text-align:left;padding:8px 12px;border-bottom:1px solid #eceff3;white-space:nowrap}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.name{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;white-space:normal;word-break:break-all}
tr.error td.name{color:var(--warn)}
td.dlq-messages.nonzero{color:var(--warn);font-weight:600}
.tag{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;background:#e6ebf3;color:var(--muted)}
.tag.receiving{background:#dff3e4;color:var(--ok)}
.tag.detached{background:#fbe3e1;color:var(--warn)}
button{font:inherit;font-size:12px;padding:4px 10px;border-radius:4px;border:1px solid var(--line);background:#fff;cursor:pointer}
button:hover:not(:disabled){border-color:var(--accent);color:var(--accent)}
button:disabled{opacity:.4;cursor:default}
td.actions button+button{margin-left:6px}
#empty{padding:14px;color:var(--muted)}
#status{padding:8px 14px;color:var(--muted);min-height:1.45em}
#status.failed{color:var(--warn)}
#output{margin:0;padding:10px 14px;max-height:320px;overflow:auto;background:#fafbfc;font:12px/1.4 ui-monospace,Menlo,monospace;white-space:pre-wrap}
#output:empty{display:none}
#events{list-style:none;margin:0;padding:0;max-height:260px;overflow:auto}
#events li{padding:6px 14px;border-bottom:1px solid #eceff3;font-size:13px;display:flex;gap:12px}
#events time{color:var(--muted);font-variant-numeric:tabular-nums;white-space:nowrap}
#events .type{font-weight:600;min-width:190px;white-space:nowrap}
#events li span:last-child{word-break:break-all}
</style>
</head>
<body>
<header>
  <h1>nestjs-messaging admin</h1><span class="transport" id="transport"></span>
  <form id="login"><input id="token" type="password" placeholder="Bearer token" autocomplete="current-password"><button type="submit">Use token</button></form>
  <span id="live">connecting</span>
</header>
<main>
  <section>
    <h2>Queues</h2>
    <table id="queues">
      <thead><tr><th>Queue</th><th>Consumer</th><th>Messages</th><th>In flight</th><th>Dead-letter queue</th><th>DLQ messages</th><th>Subscriptions / consumers</th><th>Actions</th></tr></thead>
      <tbody></tbody>
    </table>
    <div id="empty">No queues yet: this app consumes none, and the watcher (the module's watch option) has seen none.</div>
    <div id="status" role="status"></div>
    <pre id="output"></pre>
  </section>
  <section>
    <h2>Events</h2>
    <ul id="events"></ul>
  </section>
</main>
<script>
(function () {
  'use strict';
  var KEY = 'nestjs-messaging-admin-token';
  var base = location.pathname.replace(/\\/+$/, '');
  var params = new URLSearchParams(location.search);
  var token = params.get('access_token') || sessionStorage.getItem(KEY) || '';
  if (params.has('access_token')) {
    sessionStorage.setItem(KEY, token);
    params.delete('access_token');
    var rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
  }
  var rows = new Map();
  var tbody = document.querySelector('#queues tbody');
  var FIELDS = ['name', 'consumer', 'messages', 'in-flight', 'dlq', 'dlq-messages', 'subscriptions', 'actions'];
  var CHANGES = ['queue.created', 'queue.deleted', 'queue.purged', 'queue.redriven', 'resource.appeared', 'resource.disappeared', 'consumer.connected', 'consumer.disconnected'];

  function $(id) { return document.getElementById(id); }
  function headers(json) {
    var h = { accept: 'application/json' };
    if (token) h.authorization = 'Bearer ' + token;
    if (json) h['content-type'] = 'application/json';
    return h;
  }
  function refused(status) {
    if (status !== 401 && status !== 403) return false;
    $('login').classList.add('shown');
    setStatus(status === 401 ? 'The API wants a bearer token.' : 'The API refused this token.', true);
    return true;
  }
  function setStatus(text, failed) {
    $('status').textContent = text;
    $('status').classList.toggle('failed', !!failed);
  }
  function api(method, path, body) {
    return fetch(base + path, { method: method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        return response.text().then(function (text) {
          var json = text ? JSON.parse(text) : undefined;
          if (!response.ok) {
            refused(response.status);
            throw new Error((json && json.message) || response.status + ' ' + response.statusText);
          }
          return json;
        });
      });
  }

  function row(name) {
    var tr = rows.get(name);
    if (tr) return tr;
    tr = document.createElement('tr');
    tr.dataset.queue = name;
    FIELDS.forEach(function (field) {
      var td = document.createElement('td');
      td.dataset.field = field;
      td.className = field;
      if (['messages', 'in-flight', 'dlq-messages'].indexOf(field) >= 0) td.classList.add('num');
      tr.appendChild(td);
    });
    cell(tr, 'name').textContent = name;
    var actions = cell(tr, 'actions');
    [['peek', 'Peek'], ['purge', 'Purge'], ['redrive', 'Redrive DLQ']].forEach(function (a) {
      var b = document.createElement('button');
      b.type = 'button';
      b.dataset.action = a[0];
      b.textContent = a[1];
      b.addEventListener('click', function () { act(a[0], tr); });
      actions.appendChild(b);
    });
    rows.set(name, tr);
    tbody.appendChild(tr);
    $('empty').style.display = 'none';
    return tr;
  }
  function cell(tr, field) { return tr.querySelector('td[data-field="' + field + '"]'); }
  function text(value) { return value === undefined || value === null ? '\\u2013' : String(value); }

  function render(q) {
    var tr = row(q.name);
    tr.classList.toggle('error', !!q.error);
    tr.title = q.error || '';
    var consumer = cell(tr, 'consumer');
    consumer.textContent = '';
    var tag = document.createElement('span');
    tag.className = 'tag' + (q.consumed ? (q.attached ? ' receiving' : ' detached') : '');
    tag.textContent = q.consumed ? (q.attached ? 'receiving' : 'detached') : 'watched';
    consumer.appendChild(tag);
    cell(tr, 'messages').textContent = text(q.messages);
    cell(tr, 'in-flight').textContent = text(q.inFlight);
    var dlq = q.deadLetterQueue;
    cell(tr, 'dlq').textContent = dlq ? dlq.name : '\\u2013';
    var dlqMessages = cell(tr, 'dlq-messages');
    dlqMessages.textContent = dlq ? String(dlq.messages) : '\\u2013';
    dlqMessages.classList.toggle('nonzero', !!dlq && dlq.messages > 0);
    var subs = [];
    if (q.topics) subs.push(q.topics.length + ' topic' + (q.topics.length === 1 ? '' : 's'));
    if (q.consumers !== undefined) subs.push(q.consumers + ' consumer' + (q.consumers === 1 ? '' : 's'));
    cell(tr, 'subscriptions').textContent = subs.join(', ') || '\\u2013';
    cell(tr, 'subscriptions').title = (q.topics || []).join('\\n');
    tr.dataset.deadLetterQueue = dlq ? dlq.name : '';
    tr.querySelector('button[data-action="redrive"]').disabled = !dlq;
  }

  function refresh() {
    return api('GET', '/overview').then(function (overview) {
      $('transport').textContent = overview.transport;
      var seen = new Set();
      overview.queues.forEach(function (q) { seen.add(q.name); render(q); });
      rows.forEach(function (tr, name) { if (!seen.has(name)) { tr.remove(); rows.delete(name); } });
      $('empty').style.display = rows.size ? 'none' : '';
    }).catch(function (error) { setStatus('Could not load the queues: ' + error.message, true); });
  }

  function act(action, tr) {
    var name = tr.dataset.queue;
    var q = encodeURIComponent(name);
    var done;
    if (action === 'peek') {
      done = api('POST', '/queues/' + q + '/peek', { max: 10 }).then(function (messages) {
        $('output').textContent = messages.length ? JSON.stringify(messages, null, 2) : '(no message ready in ' + name + ')';
        return 'Peeked ' + messages.length + ' message(s) of ' + name + '; they stay in the queue.';
      });
    } else if (action === 'purge') {
      if (!confirm('Delete every message of ' + name + '?')) return;
      done = api('POST', '/queues/' + q + '/purge').then(function () { return 'Purged ' + name + '.'; });
    } else {
      var dlq = tr.dataset.deadLetterQueue;
      done = api('POST', '/queues/' + encodeURIComponent(dlq) + '/redrive', {}).then(function (result) {
        return 'Moved ' + result.moved + ' message(s) from ' + result.from + ' to ' + result.to + '.';
      });
    }
    setStatus('Working\\u2026');
    done.then(function (message) { setStatus(message); return refresh(); }, function (error) { setStatus(action + ' failed: ' + error.message, true); });
  }

  function logEvent(event) {
    var li = document.createElement('li');
    li.dataset.type = event.type;
    var time = document.createElement('time');
    time.textContent = new Date(event.at).toLocaleTimeString();
    var type = document.createElement('span');
    type.className = 'type';
    type.textContent = event.type;
    var what = document.createElement('span');
    var detail = event.detail ? ' ' + JSON.stringify(event.detail) : '';
    what.textContent = event.resource + (detail.length > 160 ? detail.slice(0, 160) + '\\u2026' : detail);
    li.append(time, type, what);
    var list = $('events');
    list.insertBefore(li, list.firstChild);
    while (list.children.length > 100) list.removeChild(list.lastChild);
  }

  function onFrame(frame) {
    var data = frame.split(/\\r?\\n/).filter(function (l) { return l.indexOf('data:') === 0; }).map(function (l) { return l.slice(5).replace(/^ /, ''); }).join('\\n');
    if (!data) return;
    var event = JSON.parse(data);
    if (event.type === 'queue.depth') { render(event.detail); return; }
    logEvent(event);
    if (CHANGES.indexOf(event.type) >= 0) refresh();
  }

  var retryMs = 500;
  function live(on) {
    $('live').classList.toggle('on', on);
    $('live').textContent = on ? 'live' : 'reconnecting';
  }
  function stream() {
    var headersFor = headers(false);
    headersFor.accept = 'text/event-stream';
    fetch(base + '/events', { headers: headersFor, cache: 'no-store' }).then(function (response) {
      if (!response.ok || !response.body) {
        if (refused(response.status)) { live(false); $('live').textContent = 'signed out'; return false; }
        throw new Error('event stream answered ' + response.status);
      }
      live(true);
      retryMs = 500;
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = '';
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) return true;
          buffer += decoder.decode(chunk.value, { stream: true });
          var frames = buffer.split(/\\r?\\n\\r?\\n/);
          buffer = frames.pop();
          frames.forEach(onFrame);
          return pump();
        });
      }
      return pump();
    }).catch(function () { return true; }).then(function (again) {
      if (!again) return;
      live(false);
      setTimeout(stream, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    });
  }

  $('login').addEventListener('submit', function (e) {
    e.preventDefault();
    token = $('token').value;
    sessionStorage.setItem(KEY, token);
    $('login').classList.remove('shown');
    setStatus('');
    refresh().then(stream);
  });
  refresh().then(stream);
})();
</script>
</body>
</html>
`;
