// Parley management page: uses only the public HTTP API and its event stream.
// The token comes from #token=… in the address, or the login form; it is kept in sessionStorage.

const $ = (sel) => document.querySelector(sel);
const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromHash) {
  sessionStorage.setItem('parley-token', fromHash);
  history.replaceState(null, '', location.pathname);
}
let token = sessionStorage.getItem('parley-token') ?? '';
const recording = new Map(); // conference → recording id started here

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null) e.append(c);
  return e;
}

function showError(message) {
  const box = $('#error');
  box.textContent = message;
  box.hidden = !message;
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 401) {
    $('#login').hidden = false;
    throw new Error('a valid API token is needed');
  }
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new Error(data?.error?.message ?? `HTTP ${res.status}`);
  return data;
}

const act = (fn) => async () => {
  try {
    showError('');
    await fn();
    await refreshConferences();
  } catch (err) {
    showError(err.message);
  }
};

// ───────────── configuration ─────────────

async function refreshConfig() {
  const c = await api('GET', '/v1/config');
  const refused = c.refused
    ? el(
        'div',
        { 'data-testid': 'config-refused' },
        el(
          'strong',
          {},
          `Refused at ${new Date(c.refused.at).toLocaleTimeString()} — the version above keeps serving:`,
        ),
        el('div', { class: 'errors' }, c.refused.errors.map((e) => `${e.location}: ${e.message}`).join('\n')),
      )
    : el('span', { class: 'muted' }, 'no refused changes');
  $('#config').replaceChildren(
    el(
      'p',
      {},
      'Version ',
      el('code', { 'data-testid': 'config-version' }, c.version.slice(0, 12)),
      ` loaded ${new Date(c.loadedAt).toLocaleString()} (${c.trigger}), ${c.files.length} files. `,
      el('button', { onclick: act(() => api('POST', '/v1/config/reload').then(refreshConfig)) }, 'Reload'),
    ),
    refused,
  );
}

// ───────────── conferences ─────────────

function levelBar(level) {
  // dBov −60…0 → 0…100 %.
  const pct = level === null ? 0 : Math.max(0, Math.min(100, ((level + 60) / 60) * 100));
  return el(
    'span',
    { class: 'level', title: level === null ? 'no media' : `${level} dBov` },
    el('i', { style: `width:${pct.toFixed(0)}%` }),
  );
}

function participantRow(conf, p) {
  const base = `/v1/conferences/${encodeURIComponent(conf.name)}/participants/${encodeURIComponent(p.id)}`;
  return el(
    'tr',
    { 'data-participant': p.id },
    el(
      'td',
      {},
      el('span', {
        class: `talking${p.talking ? ' on' : ''}`,
        'data-testid': 'talking',
        title: p.talking ? 'talking' : 'silent',
      }),
    ),
    el('td', {}, p.caller, ' ', el('span', { class: 'tag' }, p.role)),
    el('td', {}, levelBar(p.level)),
    el('td', {}, p.codec ?? '–'),
    el('td', {}, p.packetsLost ?? '–', ' / ', p.jitterMs ?? '–'),
    el('td', { 'data-testid': 'muted' }, p.muted ? 'muted' : ''),
    el(
      'td',
      {},
      el(
        'button',
        {
          'data-action': p.muted ? 'unmute' : 'mute',
          onclick: act(() => api('POST', `${base}/${p.muted ? 'unmute' : 'mute'}`)),
        },
        p.muted ? 'Unmute' : 'Mute',
      ),
      ' ',
      el('button', { 'data-action': 'kick', onclick: act(() => api('DELETE', base)) }, 'Kick'),
      ' ',
      el(
        'button',
        {
          'data-action': 'say',
          onclick: act(async () => {
            const text = prompt(`Say to ${p.caller}:`);
            if (text) await api('POST', `${base}/say`, { text });
          }),
        },
        'Say…',
      ),
    ),
  );
}

function conferenceCard(conf) {
  const base = `/v1/conferences/${encodeURIComponent(conf.name)}`;
  const rec = recording.get(conf.name);
  return el(
    'div',
    { 'data-conference': conf.name },
    el(
      'h3',
      {},
      conf.name,
      el('span', { class: 'tag' }, conf.document),
      conf.locked ? el('span', { class: 'tag' }, 'locked') : null,
      el(
        'button',
        {
          'data-action': conf.locked ? 'unlock' : 'lock',
          onclick: act(() => api('POST', `${base}/${conf.locked ? 'unlock' : 'lock'}`)),
        },
        conf.locked ? 'Unlock' : 'Lock',
      ),
      el(
        'button',
        {
          'data-action': rec ? 'stop-recording' : 'record',
          onclick: act(async () => {
            if (rec) {
              recording.delete(conf.name);
              await api('DELETE', `${base}/recordings/${rec}`);
              await refreshRecordings();
            } else {
              const r = await api('POST', `${base}/recordings`, {});
              recording.set(conf.name, r.id);
            }
          }),
        },
        rec ? 'Stop recording' : 'Record',
      ),
      el(
        'button',
        {
          'data-action': 'play',
          onclick: act(async () => {
            const text = prompt(`Say to everyone in ${conf.name}:`);
            if (text) await api('POST', `${base}/say`, { text });
          }),
        },
        'Say to all…',
      ),
      el('button', { 'data-action': 'end', onclick: act(() => api('DELETE', base)) }, 'End'),
    ),
    conf.participants.length === 0
      ? el('p', { class: 'muted' }, 'no participants')
      : el(
          'table',
          {},
          el(
            'thead',
            {},
            el(
              'tr',
              {},
              ['', 'caller', 'level', 'codec', 'lost / jitter ms', '', ''].map((h) => el('th', {}, h)),
            ),
          ),
          el(
            'tbody',
            {},
            conf.participants.map((p) => participantRow(conf, p)),
          ),
        ),
  );
}

let refreshing = false;
async function refreshConferences() {
  if (refreshing) return;
  refreshing = true;
  try {
    const { conferences } = await api('GET', '/v1/conferences');
    $('#conferences').replaceChildren(
      ...(conferences.length === 0
        ? [el('p', { class: 'muted' }, 'none running')]
        : conferences.map(conferenceCard)),
    );
  } finally {
    refreshing = false;
  }
}

// ───────────── recordings ─────────────

async function refreshRecordings() {
  const { recordings } = await api('GET', '/v1/recordings');
  $('#recordings').replaceChildren(
    recordings.length === 0
      ? el('p', { class: 'muted' }, 'none')
      : el(
          'table',
          {},
          el(
            'tbody',
            {},
            recordings.map((r) =>
              el(
                'tr',
                { 'data-recording': r.id },
                el('td', {}, r.id),
                el('td', {}, `${(r.size / 1024).toFixed(0)} KiB`),
                el('td', {}, new Date(r.modified).toLocaleString()),
                el(
                  'td',
                  {},
                  r.recording
                    ? el('span', { class: 'tag' }, 'recording')
                    : el('audio', {
                        controls: true,
                        preload: 'none',
                        src: `${r.url}?access_token=${encodeURIComponent(token)}`,
                      }),
                ),
                el(
                  'td',
                  {},
                  el(
                    'button',
                    { onclick: act(() => api('DELETE', r.url).then(refreshRecordings)) },
                    'Delete',
                  ),
                ),
              ),
            ),
          ),
        ),
  );
}

// ───────────── live events ─────────────

function connect() {
  const source = new EventSource(`/v1/events?access_token=${encodeURIComponent(token)}`);
  const pill = $('#stream');
  source.onopen = () => {
    pill.dataset.state = 'on';
    pill.textContent = 'events: live';
  };
  source.onerror = () => {
    pill.dataset.state = 'off';
    pill.textContent = 'events: reconnecting';
  };
  let pending;
  const soon = () => {
    clearTimeout(pending);
    pending = setTimeout(() => refreshConferences().catch((e) => showError(e.message)), 100);
  };
  source.addEventListener('participant.talking', (m) => {
    const e = JSON.parse(m.data);
    // Talking follows the stream at once, without waiting for a refresh.
    const dot = document.querySelector(
      `[data-participant="${CSS.escape(e.participant)}"] [data-testid="talking"]`,
    );
    dot?.classList.toggle('on', e.data.talking);
  });
  for (const t of [
    'conference.started',
    'conference.ended',
    'participant.joined',
    'participant.left',
    'participant.muted',
    'participant.deaf',
  ])
    source.addEventListener(t, soon);
  for (const t of ['recording.finished', 'recording.started'])
    source.addEventListener(t, () => refreshRecordings().catch((e) => showError(e.message)));
  for (const t of ['config.reloaded', 'config.refused'])
    source.addEventListener(t, () => refreshConfig().catch((e) => showError(e.message)));
}

async function start() {
  try {
    await Promise.all([refreshConfig(), refreshConferences(), refreshRecordings()]);
    connect();
    // Levels and loss change continuously; a slow poll keeps them fresh.
    setInterval(() => refreshConferences().catch(() => undefined), 1000);
  } catch (err) {
    showError(err.message);
  }
}

$('#login').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('#token').value.trim();
  sessionStorage.setItem('parley-token', token);
  $('#login').hidden = true;
  showError('');
  void start();
});
$('#start').addEventListener('submit', (e) => {
  e.preventDefault();
  const name = $('#start-name').value.trim();
  void act(() => api('POST', '/v1/conferences', { name }))();
});

void start();
