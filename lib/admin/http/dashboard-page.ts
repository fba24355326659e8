/**
 * The live dashboard: one page, inline CSS and JS, no build step and nothing fetched from elsewhere. It holds no
 * token: every call is same-origin and carries the HttpOnly sign-in cookie, which the server turns into the
 * Authorization header (GET overview, the JSON API for peek, purge and redrive, and the event stream, read with fetch
 * streaming). A 401 / 403 shows "signed out" with a link that reloads the page (the server then answers with its
 * sign-in page).
 * In an app with several connections a selector in the header chooses the one every view shows (each call carries it
 * as the `connection` query parameter); the page's own URL keeps the choice (`?connection=<name>`) across reloads.
 * Content-Security-Policy friendly: no inline event handlers, no style attributes, no eval; the server hashes the
 * inline <style> and <script> blocks. Rendering uses textContent only: queue names and message bodies never become markup.
 */
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nestjs-messaging admin</title>
<style>
:root{--bg:#f5f6f8;--card:#fff;--line:#d8dce3;--text:#1d2330;--muted:#5a6372;--accent:#2f6fde;--warn:#b3261e;--ok:#1e7b34;--amber:#a05a00}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--text)}
header{display:flex;align-items:center;gap:16px;padding:10px 20px;background:#1d2330;color:#fff;flex-wrap:wrap}
header h1{font-size:16px;margin:0;font-weight:600}
header .transport{color:#b9c4d6}
#live{margin-left:auto;display:flex;align-items:center;gap:6px;color:#b9c4d6;padding:2px 10px;border-radius:12px}
#live::before{content:"";width:9px;height:9px;border-radius:50%;background:#8a93a3}
#live[data-state="live"]::before{background:#3ccf62}
#live[data-state="broker-unreachable"],#live[data-state="app-unreachable"]{background:var(--warn);color:#fff;font-weight:600}
#live[data-state="broker-unreachable"]::before,#live[data-state="app-unreachable"]::before{background:#fff}
#live[data-state="broker-reconnecting"]{background:var(--amber);color:#fff;font-weight:600}
#live[data-state="signed-out"]{background:#5a6372;color:#fff}
#sign-out button{background:transparent;color:#b9c4d6;border-color:#4a5468}
#connection-choice{display:flex;align-items:center;gap:6px;color:#b9c4d6}
#connection-choice[hidden]{display:none}
#connection{font:inherit;font-size:13px;padding:2px 6px;border-radius:4px;border:1px solid #4a5468;background:#2a3244;color:#fff}
#signed-out{display:none;padding:10px 20px;background:#fbe3e1;color:var(--warn);font-weight:600}
#signed-out.shown{display:block}
#signed-out a{color:var(--warn)}
main{padding:16px 20px;display:grid;gap:16px;min-width:0}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;overflow:hidden;min-width:0}
section h2{font-size:14px;margin:0;padding:10px 14px;border-bottom:1px solid var(--line);background:#fafbfc}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:0}
.chart{padding:8px 14px 10px;min-width:0}
.chart h3{font-size:12px;margin:0 0 4px;color:var(--muted);font-weight:600;text-transform:uppercase;letter-spacing:.03em}
.chart canvas{display:block;width:100%;height:150px}
.legend{list-style:none;margin:4px 0 0;padding:0;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:12px}
.legend li{display:flex;align-items:center;gap:5px;min-width:0;max-width:100%}
.legend .swatch{width:10px;height:10px;border-radius:2px;flex:none}
.legend .label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.note{padding:0 14px 10px;color:var(--muted);font-size:12px;margin:0}
.table-wrap{overflow-x:auto}
table{width:100%;border-collapse:collapse;table-layout:fixed}
th,td{text-align:left;padding:8px 10px;border-bottom:1px solid #eceff3;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
th.consumer{width:100px}
th.messages{width:76px}
th.in-flight{width:96px}
th.dlq-messages{width:138px}
th.subscriptions{width:196px}
th.actions{width:330px}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.name div{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
td.name .qname{font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
td.name .dlq{font-size:12px;color:var(--muted)}
td.name .dlq:empty{display:none}
tr.error td.name{color:var(--warn)}
td.dlq-messages.nonzero{color:var(--warn);font-weight:600}
td.actions,th.actions{position:sticky;right:0;background:var(--card);overflow:visible}
.tag{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;background:#e6ebf3;color:var(--muted)}
.tag.receiving{background:#dff3e4;color:var(--ok)}
.tag.detached{background:#fbe3e1;color:var(--warn)}
button{font:inherit;font-size:12px;padding:4px 10px;border-radius:4px;border:1px solid var(--line);background:#fff;cursor:pointer}
button:hover:not(:disabled){border-color:var(--accent);color:var(--accent)}
button:disabled{opacity:.4;cursor:default}
td.actions button{margin:2px 0 2px 6px}
#empty{padding:14px;color:var(--muted)}
#empty.hidden{display:none}
#status{padding:8px 14px;color:var(--muted);min-height:1.45em}
#status.failed{color:var(--warn)}
#peek{display:none;border-top:1px solid var(--line)}
#peek.shown{display:block}
#peek-title{display:flex;align-items:center;gap:10px;padding:8px 14px;background:#fafbfc;font-weight:600}
#peek-title span{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;min-width:0}
#peek-title button{margin-left:auto}
#peek-messages{max-height:460px;overflow:auto}
.message{padding:10px 14px;border-bottom:1px solid #eceff3}
.message dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 6px}
.message dt{color:var(--muted)}
.message dd{margin:0;word-break:break-all}
.message dd.reason{color:var(--warn);font-weight:600}
.message pre{margin:4px 0;padding:8px;background:#fafbfc;border:1px solid #eceff3;border-radius:4px;font:12px/1.4 ui-monospace,Menlo,monospace;white-space:pre-wrap;word-break:break-all;max-height:260px;overflow:auto}
.message h4{margin:6px 0 0;font-size:12px;color:var(--muted)}
.message summary{cursor:pointer;color:var(--accent);font-size:12px;margin-top:6px}
#events{list-style:none;margin:0;padding:0;max-height:260px;overflow:auto}
#events li{padding:6px 14px;border-bottom:1px solid #eceff3;font-size:13px;display:flex;gap:12px}
#events time{color:var(--muted);font-variant-numeric:tabular-nums;white-space:nowrap}
#events .type{font-weight:600;min-width:190px;white-space:nowrap}
#events li span:last-child{word-break:break-all}
@media (max-width:900px){
  main{padding:10px}
  th.in-flight,td.in-flight,th.subscriptions,td.subscriptions,th.consumer,td.consumer{display:none}
  th.actions{width:186px}
  th.dlq-messages{width:84px}
  th{white-space:normal}
  td.actions{white-space:normal}
  #events .type{min-width:0}
}
</style>
</head>
<body>
<header>
  <h1>nestjs-messaging admin</h1>
  <label id="connection-choice" hidden>Connection <select id="connection"></select></label>
  <span class="transport" id="transport"></span>
  <span id="live" data-state="connecting" role="status">connecting</span>
  <form id="sign-out" method="post"><button type="submit">Sign out</button></form>
</header>
<div id="signed-out" role="alert">Signed out: the API no longer accepts this browser's sign-in. <a id="sign-in-again" href="">Sign in again</a></div>
<main>
  <section>
    <h2 id="charts-title">Last minute</h2>
    <div class="charts">
      <div class="chart"><h3>Messages per second (this app)</h3><canvas id="chart-rates"></canvas><ul class="legend" id="legend-rates"></ul></div>
      <div class="chart"><h3>Messages waiting</h3><canvas id="chart-depth"></canvas><ul class="legend" id="legend-depth"></ul></div>
    </div>
    <p class="note">Rates count what this app emitted through the connection's MessagingClient (not the admin API's publishes) and what its consumers did, since the page opened. Depths are sampled at each refresh of the queues. The age of the oldest message is not shown: SQS reports it only as a CloudWatch metric, and reading it from the queue would spend a receive of that message.</p>
  </section>
  <section>
    <h2>Queues</h2>
    <div class="table-wrap">
    <table id="queues">
      <thead><tr><th class="name">Queue / dead-letter queue</th><th class="consumer">Consumer</th><th class="messages">Ready</th><th class="in-flight">In flight</th><th class="dlq-messages">Dead letters</th><th class="subscriptions">Topics / consumers</th><th class="actions">Actions</th></tr></thead>
      <tbody></tbody>
    </table>
    </div>
    <div id="empty">No queues yet: this app consumes none, and the watcher (the module's watch option) has seen none.</div>
    <div id="status" role="status"></div>
    <div id="peek"><div id="peek-title"><span id="peek-what"></span><button type="button" id="peek-close">Close</button></div><div id="peek-messages"></div></div>
  </section>
  <section>
    <h2>Events</h2>
    <ul id="events"></ul>
  </section>
</main>
<script>
(function () {
  'use strict';
  var base = location.pathname.replace(/[/]+$/, '');
  var WINDOW_MS = 10 * 60 * 1000;
  var MIN_SPAN_MS = 60 * 1000;
  var opened = Date.now();
  var DASH = '\\u2013';
  var rows = new Map();
  var infos = new Map();
  var tbody = document.querySelector('#queues tbody');
  var FIELDS = ['name', 'consumer', 'messages', 'in-flight', 'dlq-messages', 'subscriptions', 'actions'];
  var ACTIONS = [['peek', 'Peek'], ['peek-dlq', 'Peek DLQ'], ['purge', 'Purge'], ['redrive', 'Redrive DLQ']];
  var CHANGES = ['queue.created', 'queue.deleted', 'queue.purged', 'queue.redriven', 'resource.appeared', 'resource.disappeared', 'consumer.connected', 'consumer.disconnected'];
  var QUIET = ['queue.depth', 'message.rates'];
  var COLORS = ['#2f6fde', '#1e7b34', '#d97a00', '#b3261e', '#7b3fbf', '#00838f', '#8a6d3b', '#c2185b'];
  var transport = '';
  var state = { stream: 'connecting', broker: { state: 'connected' }, signedOut: false };
  // the connection every view shows: '' is the default one (no connection parameter, as in an app with one connection)
  var connection = '';
  var defaultConnection = 'default';
  // bumped on each switch of connection: answers and events of an earlier one are dropped
  var generation = 0;
  var streamAbort;

  function $(id) { return document.getElementById(id); }
  function setStatus(text, failed) {
    $('status').textContent = text;
    $('status').classList.toggle('failed', !!failed);
  }
  function showHeader() {
    var live = $('live');
    var s, text, title = '';
    if (state.signedOut) { s = 'signed-out'; text = 'signed out'; }
    else if (state.stream === 'down') { s = 'app-unreachable'; text = 'app unreachable, retrying'; }
    else if (state.broker.state === 'unreachable') { s = 'broker-unreachable'; text = 'broker unreachable'; title = state.broker.problem || ''; }
    else if (state.broker.state === 'reconnecting') { s = 'broker-reconnecting'; text = 'broker reconnecting'; title = state.broker.problem || ''; }
    else if (state.stream === 'live') { s = 'live'; text = 'live'; }
    else { s = 'connecting'; text = 'connecting'; }
    live.dataset.state = s;
    live.textContent = text;
    live.title = title;
  }
  function signedOut() {
    state.signedOut = true;
    $('signed-out').classList.add('shown');
    showHeader();
  }
  function withConnection(path) {
    if (!connection) return path;
    return path + (path.indexOf('?') < 0 ? '?' : '&') + 'connection=' + encodeURIComponent(connection);
  }
  function api(method, path, body) {
    var headers = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(base + withConnection(path), { method: method, headers: headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) })
      .then(function (response) {
        return response.text().then(function (text) {
          var json;
          try { json = text ? JSON.parse(text) : undefined; } catch (e) { json = undefined; }
          if (!response.ok) {
            if (response.status === 401 || response.status === 403) signedOut();
            var error = new Error((json && json.message) || response.status + ' ' + response.statusText);
            error.status = response.status;
            throw error;
          }
          return json;
        });
      });
  }

  // ---- queues table ----
  function cell(tr, field) { return tr.querySelector('td[data-field="' + field + '"]'); }
  function text(value) { return value === undefined || value === null ? DASH : String(value); }
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
    add(cell(tr, 'name'), 'div', 'qname', name).title = name;
    add(cell(tr, 'name'), 'div', 'dlq').dataset.field = 'dlq';
    var actions = cell(tr, 'actions');
    ACTIONS.forEach(function (a) {
      var b = document.createElement('button');
      b.type = 'button';
      b.dataset.action = a[0];
      b.textContent = a[1];
      b.addEventListener('click', function () { act(a[0], name); });
      actions.appendChild(b);
    });
    rows.set(name, tr);
    tbody.appendChild(tr);
    $('empty').classList.add('hidden');
    return tr;
  }
  function render(q) {
    infos.set(q.name, q);
    var tr = row(q.name);
    tr.classList.toggle('error', !!q.error);
    tr.querySelector('.qname').title = q.error ? q.name + '\\n' + q.error : q.name;
    var consumer = cell(tr, 'consumer');
    consumer.textContent = '';
    var tag = document.createElement('span');
    tag.className = 'tag' + (q.consumed ? (q.attached ? ' receiving' : ' detached') : '');
    tag.textContent = q.consumed ? (q.attached ? 'receiving' : 'detached') : 'watched';
    consumer.appendChild(tag);
    cell(tr, 'messages').textContent = text(q.messages);
    cell(tr, 'in-flight').textContent = text(q.inFlight);
    var dlq = q.deadLetterQueue;
    var dlqName = tr.querySelector('.dlq');
    dlqName.textContent = dlq ? 'DLQ ' + dlq.name : '';
    dlqName.title = dlq ? dlq.name : '';
    var dlqMessages = cell(tr, 'dlq-messages');
    dlqMessages.textContent = dlq ? String(dlq.messages) : DASH;
    dlqMessages.title = dlq ? dlq.messages + ' in ' + dlq.name : 'no dead-letter queue';
    dlqMessages.classList.toggle('nonzero', !!dlq && dlq.messages > 0);
    var subs = [];
    if (q.topics) subs.push(q.topics.length + ' topic' + (q.topics.length === 1 ? '' : 's'));
    if (q.consumers !== undefined) subs.push(q.consumers + ' consumer' + (q.consumers === 1 ? '' : 's'));
    cell(tr, 'subscriptions').textContent = subs.join(', ') || DASH;
    cell(tr, 'subscriptions').title = (q.topics || []).join('\\n');
    var peekDlq = tr.querySelector('button[data-action="peek-dlq"]');
    peekDlq.disabled = !dlq;
    peekDlq.title = dlq ? 'Peek ' + dlq.name + ' (free: it moves nothing)' : 'This queue has no dead-letter queue';
    var redrive = tr.querySelector('button[data-action="redrive"]');
    redrive.disabled = !dlq || !(dlq.messages > 0);
    redrive.title = !dlq ? 'This queue has no dead-letter queue' : dlq.messages > 0 ? 'Move the messages of ' + dlq.name + ' back to ' + q.name : dlq.name + ' is empty';
    var peek = tr.querySelector('button[data-action="peek"]');
    peek.title = q.maxReceiveCount ? 'Each message shown spends one of its ' + q.maxReceiveCount + ' receives (asks first)' : 'Look at up to 10 messages; they stay in the queue';
    sampleDepth(q);
  }
  function refresh() {
    var at = generation;
    return api('GET', '/overview').then(function (overview) {
      if (at !== generation) return;
      transport = overview.transport;
      $('transport').textContent = transport;
      if (overview.broker) { state.broker = overview.broker; showHeader(); }
      var seen = new Set();
      overview.queues.forEach(function (q) { seen.add(q.name); render(q); });
      rows.forEach(function (tr, name) { if (!seen.has(name)) { tr.remove(); rows.delete(name); infos.delete(name); } });
      $('empty').classList.toggle('hidden', rows.size > 0);
      drawCharts();
    }).catch(function (error) { if (at === generation) setStatus('Could not load the queues: ' + error.message, true); });
  }

  // ---- actions ----
  function peekWarning(name, info) {
    var n = info.maxReceiveCount;
    var target = info.deadLetterQueue ? info.deadLetterQueue.name : 'its dead-letter queue';
    var cost = transport === 'amqp'
      ? 'RabbitMQ marks each message shown as redelivered, which your consumer counts as one more of its ' + n +
        ' attempts: a message whose next attempt then fails may go to ' + target + ' one attempt sooner.'
      : 'SQS counts each look as a receive: each message shown spends one of its ' + n + ' receives. One already received ' +
        (n - 1) + ' times reaches ' + n + ' with this peek, and SQS moves it to ' + target +
        ' the next time anything receives it, before your consumer sees it again.';
    return 'Peeking ' + name + ' is not free.\\n\\n' + cost + '\\n\\nThe messages stay in ' + name + '. Peek anyway?';
  }
  function spentText() { return transport === 'amqp' ? ', each marked redelivered.' : ', each with one more receive counted.'; }
  function peek(name, spendReceive) {
    var body = { max: 10 };
    if (spendReceive) body.spendReceive = true;
    var at = generation;
    return api('POST', '/queues/' + encodeURIComponent(name) + '/peek', body).then(function (messages) {
      if (at === generation) showPeek(name, messages, spendReceive);
      return 'Peeked ' + messages.length + ' message(s) of ' + name + '; they stay in ' + name +
        (spendReceive ? spentText() : '.');
    }, function (error) {
      // a queue the overview did not know to be receive-counted: the server says so, the user decides
      if (error.status !== 409 || spendReceive) throw error;
      if (!confirm(error.message + '\\n\\nPeek anyway, spending one receive of each message shown?')) return 'Peek of ' + name + ' cancelled.';
      return peek(name, true);
    });
  }
  function act(action, name) {
    var info = infos.get(name) || { name: name };
    var dlq = info.deadLetterQueue;
    var done;
    if (action === 'peek') {
      if (info.maxReceiveCount && !confirm(peekWarning(name, info))) { setStatus('Peek of ' + name + ' cancelled.'); return; }
      done = peek(name, !!info.maxReceiveCount);
    } else if (action === 'peek-dlq') {
      if (!dlq) return;
      done = peek(dlq.name, false);
    } else if (action === 'purge') {
      var count = info.messages === undefined ? 'every' : 'all ' + info.messages;
      if (!confirm('Purge ' + name + '? This deletes ' + count + ' message(s) waiting in it, for good.')) { setStatus('Purge of ' + name + ' cancelled.'); return; }
      done = api('POST', '/queues/' + encodeURIComponent(name) + '/purge').then(function () { return 'Purged ' + name + '.'; });
    } else {
      if (!dlq || !(dlq.messages > 0)) return;
      if (!confirm('Redrive ' + dlq.messages + ' message(s) from ' + dlq.name + ' to ' + name + '?\\n\\nEach is sent to ' + name + ' and then deleted from ' + dlq.name + '; your consumer receives them again.')) { setStatus('Redrive of ' + dlq.name + ' cancelled.'); return; }
      done = api('POST', '/queues/' + encodeURIComponent(dlq.name) + '/redrive', {}).then(function (result) {
        return 'Moved ' + result.moved + ' message(s) from ' + result.from + ' to ' + result.to + '.';
      });
    }
    setStatus('Working\\u2026');
    var at = generation;
    done.then(function (message) { if (at === generation) { setStatus(message); return refresh(); } }, function (error) { if (at === generation) setStatus(action + ' failed: ' + error.message, true); });
  }

  // ---- peeked messages ----
  function pretty(value) {
    if (typeof value === 'string') {
      try { return JSON.stringify(JSON.parse(value), null, 2); } catch (e) { return value; }
    }
    return JSON.stringify(value, null, 2);
  }
  function add(parent, tag, className, content) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (content !== undefined) el.textContent = content;
    parent.appendChild(el);
    return el;
  }
  function showPeek(name, messages, spent) {
    $('peek-what').textContent = messages.length + ' message(s) of ' + name + (spent ? (transport === 'amqp' ? ' (marked redelivered)' : ' (one receive spent each)') : '');
    $('peek-what').title = name;
    var list = $('peek-messages');
    list.textContent = '';
    if (!messages.length) add(list, 'div', 'message', 'No message ready in ' + name + '.');
    messages.forEach(function (m) {
      var item = add(list, 'article', 'message');
      item.dataset.messageId = m.messageId;
      var dl = add(item, 'dl');
      function term(label, value, className) {
        add(dl, 'dt', '', label);
        var dd = add(dl, 'dd', className, value);
        dd.dataset.field = label;
      }
      term('Dead-letter reason', m.deadLetterReason || (m.deadLetterReason === undefined ? 'none given' : m.deadLetterReason), m.deadLetterReason ? 'reason' : '');
      term('Receives', String(m.receiveCount));
      if (m.topic) term('Topic', m.topic);
      term('Message id', m.messageId);
      if (m.decodeError) term('Could not decode', m.decodeError, 'reason');
      else {
        add(item, 'h4', '', 'Data');
        add(item, 'pre', 'data', pretty(m.data));
      }
      if (m.metadata) { add(item, 'h4', '', 'Metadata'); add(item, 'pre', 'metadata', pretty(m.metadata)); }
      if (m.attributes && Object.keys(m.attributes).length) { add(item, 'h4', '', 'Attributes'); add(item, 'pre', 'attributes', pretty(m.attributes)); }
      var raw = add(item, 'details', 'raw');
      add(raw, 'summary', '', 'Raw body, as it sits in the queue');
      var rawBody = add(raw, 'pre', 'body');
      raw.addEventListener('toggle', function () { if (raw.open && !rawBody.textContent) rawBody.textContent = pretty(m.body); });
    });
    $('peek').classList.add('shown');
  }
  $('peek-close').addEventListener('click', function () { $('peek').classList.remove('shown'); });

  // ---- charts ----
  var rates = [];
  var depths = new Map();
  var RATE_SERIES = [['published', 'published'], ['handled', 'handled'], ['failed', 'failed, retried'], ['deadLettered', 'dead-lettered']];
  function trim(points, now) { while (points.length && points[0].t < now - WINDOW_MS) points.shift(); }
  function sampleDepth(q) {
    var now = Date.now();
    function push(key, label, value) {
      if (typeof value !== 'number') return;
      var series = depths.get(key);
      if (!series) { series = { label: label, points: [] }; depths.set(key, series); }
      var last = series.points[series.points.length - 1];
      if (last && now - last.t < 200) last.v = value; else series.points.push({ t: now, v: value });
      trim(series.points, now);
    }
    push('q:' + q.name, q.name, q.messages);
    if (q.deadLetterQueue) push('d:' + q.deadLetterQueue.name, q.deadLetterQueue.name + ' (dead letters)', q.deadLetterQueue.messages);
  }
  function sampleRates(detail) {
    var now = Date.now();
    var sample = { t: now };
    RATE_SERIES.forEach(function (s) { sample[s[0]] = detail[s[0]]; });
    rates.push(sample);
    trim(rates, now);
  }
  /**
   * Per-second rates over buckets of a 60th of the span (at least 5 s), so that a few messages do not draw spikes.
   * The server reports no interval without a message: a bucket without a report is a zero.
   */
  function rateSeries(span, now) {
    var bucketMs = Math.max(5000, span / 60);
    var first = Math.ceil(Math.max(opened, now - span) / bucketMs) * bucketMs;
    var buckets = [];
    for (var end = first; end < now + bucketMs; end += bucketMs) {
      var bucket = { t: Math.min(end, now), seconds: Math.max(Math.min(end, now) - Math.max(end - bucketMs, opened), 1000) / 1000 };
      RATE_SERIES.forEach(function (s) { bucket[s[0]] = 0; });
      buckets.push(bucket);
    }
    rates.forEach(function (sample) {
      var bucket = buckets[Math.ceil((sample.t - first) / bucketMs)]; // bucket k holds (end - bucketMs, end]
      if (bucket) RATE_SERIES.forEach(function (s) { bucket[s[0]] += sample[s[0]]; });
    });
    return RATE_SERIES.map(function (s, i) {
      return { key: s[0], label: s[1], color: COLORS[i], dashed: s[0] === 'published', points: buckets.map(function (b) { return { t: b.t, v: b[s[0]] / b.seconds }; }) };
    });
  }
  function niceMax(max) {
    if (max <= 0) return 1;
    var step = Math.pow(10, Math.floor(Math.log10(max)));
    var m = [1, 2, 5, 10].find(function (f) { return f * step >= max; });
    return m * step;
  }
  /** The last 10 minutes; while the page is younger, the time it has been open (at least a minute). */
  function chartSpan(now) { return Math.min(WINDOW_MS, Math.max(MIN_SPAN_MS, now - opened)); }
  function format(v) { return v >= 100 || v === Math.round(v) ? String(Math.round(v)) : v.toFixed(1); }
  function drawChart(canvas, legend, series, unit) {
    var now = Date.now();
    var ratio = window.devicePixelRatio || 1;
    var width = canvas.clientWidth, height = canvas.clientHeight;
    if (!width || !height) return;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    var g = canvas.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, width, height);
    var span = chartSpan(now);
    var minutes = span / 60000;
    var left = 40, right = 8, top = 6, bottom = 18;
    var plotW = width - left - right, plotH = height - top - bottom;
    var max = niceMax(Math.max.apply(null, [0].concat(series.map(function (s) { return Math.max.apply(null, [0].concat(s.points.map(function (p) { return p.v; }))); }))));
    g.font = '11px system-ui,sans-serif';
    g.fillStyle = '#5a6372';
    g.strokeStyle = '#e3e7ee';
    g.lineWidth = 1;
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    [0, 0.5, 1].forEach(function (f) {
      var y = top + plotH - f * plotH;
      g.beginPath(); g.moveTo(left, y + 0.5); g.lineTo(left + plotW, y + 0.5); g.stroke();
      g.fillText(format(max * f) + unit, left - 4, y);
    });
    g.textAlign = 'center';
    g.textBaseline = 'top';
    g.fillText('-' + format(minutes) + ' min', left + 14, top + plotH + 4);
    g.fillText('-' + format(minutes / 2) + ' min', left + plotW / 2, top + plotH + 4);
    g.fillText('now', left + plotW - 10, top + plotH + 4);
    var drawn = 0;
    series.forEach(function (s) {
      g.strokeStyle = s.color;
      g.fillStyle = s.color;
      g.lineWidth = 1.8;
      g.setLineDash(s.dashed ? [5, 4] : []);
      g.beginPath();
      s.points.forEach(function (p, i) {
        var x = left + plotW * (1 - (now - p.t) / span);
        var y = top + plotH - (p.v / max) * plotH;
        if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
        drawn += 1;
      });
      g.stroke();
      if (s.points.length === 1) {
        var p = s.points[0];
        g.beginPath();
        g.arc(left + plotW * (1 - (now - p.t) / span), top + plotH - (p.v / max) * plotH, 2.5, 0, 2 * Math.PI);
        g.fill();
      }
    });
    canvas.dataset.points = String(drawn);
    $('charts-title').textContent = minutes >= 1.05 ? 'Last ' + format(minutes) + ' minutes' : 'Last minute';
    legend.textContent = '';
    series.forEach(function (s) {
      var li = add(legend, 'li');
      li.dataset.series = s.key;
      var swatch = add(li, 'span', 'swatch');
      swatch.style.background = s.color;
      var last = s.points[s.points.length - 1];
      var label = add(li, 'span', 'label', s.label + ': ' + (last ? format(last.v) + unit : DASH));
      label.title = s.label;
      li.dataset.value = last ? String(last.v) : '';
      li.dataset.peak = String(Math.max.apply(null, [0].concat(s.points.map(function (p) { return p.v; }))));
    });
  }
  function drawCharts() {
    var now = Date.now();
    trim(rates, now);
    drawChart($('chart-rates'), $('legend-rates'), rateSeries(chartSpan(now), now), '/s');
    var depthSeries = [];
    depths.forEach(function (s, key) { if (s.points.length) depthSeries.push({ key: key, label: s.label, points: s.points }); });
    // the fullest queues first; at most as many lines as there are colours
    depthSeries.sort(function (a, b) { return b.points[b.points.length - 1].v - a.points[a.points.length - 1].v; });
    depthSeries = depthSeries.slice(0, COLORS.length).map(function (s, i) { s.color = COLORS[i]; return s; });
    drawChart($('chart-depth'), $('legend-depth'), depthSeries, '');
  }
  window.addEventListener('resize', drawCharts);

  // ---- events ----
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
    if (event.type === 'queue.depth') { render(event.detail); drawCharts(); return; }
    if (event.type === 'message.rates') { sampleRates(event.detail); drawCharts(); return; }
    if (QUIET.indexOf(event.type) < 0) logEvent(event);
    if (event.type === 'broker.state') { state.broker = event.detail; showHeader(); }
    if (CHANGES.indexOf(event.type) >= 0) refresh();
  }

  var retryMs = 500;
  function stream() {
    if (state.signedOut) return;
    var at = generation;
    streamAbort = new AbortController();
    fetch(base + withConnection('/events'), { headers: { accept: 'text/event-stream' }, credentials: 'same-origin', cache: 'no-store', signal: streamAbort.signal }).then(function (response) {
      if (response.status === 401 || response.status === 403) { signedOut(); return false; }
      if (!response.ok || !response.body) throw new Error('event stream answered ' + response.status);
      state.stream = 'live';
      showHeader();
      retryMs = 500;
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffer = '';
      function pump() {
        return reader.read().then(function (chunk) {
          if (at !== generation) return false;
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
      if (!again || at !== generation) return;
      state.stream = 'down';
      showHeader();
      setTimeout(function () { if (at === generation) { stream(); refresh(); } }, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    });
  }

  // ---- connections ----
  /** Keeps the choice in the page's URL (the default one leaves it out), so that a reload shows the same connection. */
  function remember(name) {
    var params = new URLSearchParams(location.search);
    if (name) params.set('connection', name); else params.delete('connection');
    var search = params.toString();
    history.replaceState(null, '', location.pathname + (search ? '?' + search : '') + location.hash);
  }
  /** The selector, shown only when the app has more than one connection; the URL's choice when the app has it. */
  function chooseConnection(list) {
    if (!list.length) return;
    var names = list.map(function (c) { return c.name; });
    defaultConnection = names[0];
    var select = $('connection');
    select.textContent = '';
    list.forEach(function (c) { add(select, 'option', '', c.name + ' (' + c.transport + ')').value = c.name; });
    $('connection-choice').hidden = list.length < 2;
    var wanted = new URLSearchParams(location.search).get('connection');
    if (wanted !== null && names.indexOf(wanted) < 0) {
      setStatus('This app has no connection ' + JSON.stringify(wanted) + ': showing ' + defaultConnection + '.', true);
      wanted = null;
      remember('');
    }
    connection = wanted && wanted !== defaultConnection ? wanted : '';
    select.value = connection || defaultConnection;
  }
  /** Every view to another connection: its queues, charts, events and stream start afresh. */
  function switchTo(name) {
    connection = name === defaultConnection ? '' : name;
    remember(connection);
    generation += 1;
    if (streamAbort) streamAbort.abort();
    rows.forEach(function (tr) { tr.remove(); });
    rows.clear();
    infos.clear();
    depths.clear();
    rates.length = 0;
    opened = Date.now();
    $('events').textContent = '';
    $('peek').classList.remove('shown');
    $('empty').classList.remove('hidden');
    setStatus('');
    state.stream = 'connecting';
    state.broker = { state: 'connected' };
    showHeader();
    drawCharts();
    refresh().then(stream);
  }
  $('connection').addEventListener('change', function () { switchTo($('connection').value); });

  $('sign-out').action = base + '/sign-out';
  $('sign-in-again').href = location.pathname;
  api('GET', '/connections').then(chooseConnection, function () { /* the default connection, as before */ }).then(function () {
    return refresh();
  }).then(stream);
})();
</script>
</body>
</html>
`;
