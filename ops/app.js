// The operations page: counts by status, the provider circuit, the latest failures and the held notifications,
// one notification's detail and history, and the operators' actions, all through the operator API (SigV4-signed
// in the page, ./sigv4.js). No framework, no build step, nothing fetched from elsewhere: the files are served as
// they are (locally by the API door, on AWS by a small function behind GET /ops). Data from the API is only ever
// written as text (textContent), never as HTML.
import { signRequest } from './sigv4.js';

const $ = (id) => document.getElementById(id);

const STATUSES = [
  ['pending', 'En attente', 'pending'],
  ['sent', 'Envoyées', 'sent'],
  ['failed', 'En échec, à réessayer', 'failed'],
  ['permanent_failure', 'Échecs définitifs', 'permanent failure'],
  ['cancelled', 'Annulées', 'cancelled'],
  ['expired', 'Expirées', 'expired'],
];
const STATUS_TEXT = {
  pending: 'en attente',
  sent: 'envoyée',
  failed: 'échec',
  permanent_failure: 'échec définitif',
  cancelled: 'annulée',
  expired: 'expirée',
};
const REASON_TEXT = {
  temporary_error: 'erreur temporaire',
  provider_unavailable: 'fournisseur indisponible',
  permanent_error: 'erreur définitive',
  max_retries_exceeded: 'essais épuisés',
  validity_expired: 'validité dépassée',
  cancelled_by_operator: 'annulée par un opérateur',
};
/** Rows a list shows per page. */
const PAGE = 20;
const AUTO_REFRESH_MS = 15_000;
/** Bulk re-drive and export calls one click may chain (500 matches, 5,000 rows each): a bound on a runaway loop. */
const MAX_CHAINED_CALLS = 40;
/** Temporary credentials are renewed this long before they expire. */
const RENEW_BEFORE_MS = 2 * 60_000;

const session = {
  /** config.json: how to sign in, where the API is. */
  config: undefined,
  /** { accessKeyId, secretAccessKey, sessionToken?, region, expiresAt? } in memory only. */
  credentials: undefined,
  /** Cognito: what renews the credentials (in memory only), and who signed in. */
  cognito: undefined,
  user: '',
  timer: undefined,
  /** Where each list's next page starts. */
  cursors: {},
  /** The bulk re-drive that a dry run counted, until its form changes. */
  counted: undefined,
  /** The notification the detail view shows. */
  detailId: undefined,
};

// ---- Small helpers ------------------------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('data-')) node.dataset[name.slice(5).replace(/-(\w)/g, (_, c) => c.toUpperCase())] = value;
    else node.setAttribute(name, value);
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child);
  return node;
}

const bilingual = (french, english) => [french, ' ', el('small', {}, english)];

const dateTime = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'short', timeStyle: 'medium' });
const relative = new Intl.RelativeTimeFormat('fr', { numeric: 'auto' });

const when = (iso) => (iso ? dateTime.format(new Date(iso)) : '—');

function fromNow(iso) {
  if (!iso) return '—';
  const minutes = Math.round((Date.parse(iso) - Date.now()) / 60_000);
  const text =
    Math.abs(minutes) < 90 ? relative.format(minutes, 'minute') : relative.format(Math.round(minutes / 60), 'hour');
  return `${when(iso)} (${text})`;
}

const hoursAgo = (hours) => new Date(Date.now() - hours * 3_600_000).toISOString();

function say(id, text) {
  const node = $(id);
  node.textContent = text;
  node.hidden = text === '';
}

function showProblem(id, error) {
  say(id, error instanceof ApiProblem ? error.message : `Erreur / error: ${error?.message ?? String(error)}`);
}

/** Runs `work` with `button` disabled, its problem shown in `problemId` (and cleared first). */
async function busy(button, problemId, work) {
  button.disabled = true;
  say(problemId, '');
  try {
    await work();
  } catch (error) {
    showProblem(problemId, error);
  } finally {
    button.disabled = false;
  }
}

// ---- The operator API, signed -------------------------------------------------------------------------------

/** A refusal of the API: its problem document's `detail` (RFC 9457), or what API Gateway said. */
class ApiProblem extends Error {
  constructor(status, problem) {
    const fields = (problem.errors ?? []).map((e) => `${e.path || '(body)'}: ${e.message}`).join('; ');
    const detail = problem.detail ?? problem.message ?? problem.title ?? `HTTP ${status}`;
    super(`${status} · ${detail}${fields && !detail.includes(fields) ? ` (${fields})` : ''}`);
    this.status = status;
    this.problem = problem;
  }
}

async function problemOf(response) {
  const text = await response.text();
  try {
    return new ApiProblem(response.status, JSON.parse(text));
  } catch {
    return new ApiProblem(response.status, { detail: text.slice(0, 300) || response.statusText });
  }
}

/** The API's base path on this origin: /v1 locally, /<stage>/v1 on AWS. */
const apiPath = (path) => `${new URL(session.config.apiBase, window.location.href).pathname.replace(/\/$/, '')}${path}`;

async function call(method, path, { query = [], body } = {}) {
  const credentials = await currentCredentials();
  const text = method === 'GET' ? '' : JSON.stringify(body ?? {});
  const headers = method === 'GET' ? {} : { 'content-type': 'application/json' };
  const fullPath = apiPath(path);
  const signed = await signRequest(
    { method, host: window.location.host, path: fullPath, query, headers, body: text },
    credentials,
    { region: credentials.region },
  );
  const response = await fetch(`${fullPath}${signed.query ? `?${signed.query}` : ''}`, {
    method,
    headers: signed.headers,
    cache: 'no-store',
    ...(method === 'GET' ? {} : { body: text }),
  });
  if (!response.ok) throw await problemOf(response);
  return response;
}

const getJson = async (path, query) => (await call('GET', path, { query })).json();
const postJson = async (path, body) => (await call('POST', path, { body })).json();

// ---- Credentials: static keys (locally), or Cognito (on AWS) --------------------------------------------------

async function cognito(service, target, body) {
  const host = service === 'idp' ? 'cognito-idp' : 'cognito-identity';
  const prefix = service === 'idp' ? 'AWSCognitoIdentityProviderService' : 'AWSCognitoIdentityService';
  const response = await fetch(`https://${host}.${session.config.region}.amazonaws.com/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${prefix}.${target}` },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(answer.message ?? answer.__type ?? `Cognito ${target}: HTTP ${response.status}`);
  return answer;
}

/** The identity pool's temporary IAM credentials for a user pool ID token (the enhanced flow). */
async function credentialsFor(idToken) {
  const { config } = session;
  const logins = { [`cognito-idp.${config.region}.amazonaws.com/${config.userPoolId}`]: idToken };
  const { IdentityId } = await cognito('identity', 'GetId', { IdentityPoolId: config.identityPoolId, Logins: logins });
  const { Credentials } = await cognito('identity', 'GetCredentialsForIdentity', {
    IdentityId,
    Logins: logins,
  });
  return {
    accessKeyId: Credentials.AccessKeyId,
    secretAccessKey: Credentials.SecretKey,
    sessionToken: Credentials.SessionToken,
    region: config.region,
    expiresAt: Credentials.Expiration * 1000,
  };
}

async function currentCredentials() {
  if (!session.credentials) throw new Error('non connecté / not signed in');
  const { expiresAt } = session.credentials;
  if (session.cognito && expiresAt !== undefined && expiresAt - Date.now() < RENEW_BEFORE_MS) {
    const { AuthenticationResult } = await cognito('idp', 'InitiateAuth', {
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      ClientId: session.config.clientId,
      AuthParameters: { REFRESH_TOKEN: session.cognito.refreshToken },
    });
    session.credentials = await credentialsFor(AuthenticationResult.IdToken);
  }
  return session.credentials;
}

async function signInWithCognito() {
  const { config } = session;
  const username = $('username').value.trim();
  let answer;
  if (session.cognito?.challenge) {
    const newPassword = $('new-password').value;
    if (!newPassword) throw new Error('choisissez un nouveau mot de passe / choose a new password');
    answer = await cognito('idp', 'RespondToAuthChallenge', {
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      ClientId: config.clientId,
      Session: session.cognito.challenge,
      ChallengeResponses: { USERNAME: username, NEW_PASSWORD: newPassword },
    });
  } else {
    answer = await cognito('idp', 'InitiateAuth', {
      AuthFlow: 'USER_PASSWORD_AUTH',
      ClientId: config.clientId,
      AuthParameters: { USERNAME: username, PASSWORD: $('password').value },
    });
  }
  if (answer.ChallengeName === 'NEW_PASSWORD_REQUIRED') {
    // A user an admin created signs in first with a temporary password, then chooses their own.
    session.cognito = { challenge: answer.Session };
    $('new-password-label').hidden = false;
    throw new Error('Premier accès : choisissez un nouveau mot de passe. / First sign-in: choose a new password.');
  }
  if (!answer.AuthenticationResult) throw new Error(`Cognito: ${answer.ChallengeName ?? 'no result'}`);
  session.cognito = { refreshToken: answer.AuthenticationResult.RefreshToken };
  session.credentials = await credentialsFor(answer.AuthenticationResult.IdToken);
  session.user = username;
}

function signInWithKeys() {
  session.credentials = {
    accessKeyId: $('access-key').value.trim(),
    secretAccessKey: $('secret-key').value,
    region: $('region').value.trim(),
    ...($('session-token').value.trim() ? { sessionToken: $('session-token').value.trim() } : {}),
  };
  session.user = session.credentials.accessKeyId;
}

async function signIn(event) {
  event.preventDefault();
  const button = event.submitter ?? event.target.querySelector('button');
  await busy(button, 'sign-in-problem', async () => {
    if (session.config.auth === 'cognito') await signInWithCognito();
    else signInWithKeys();
    try {
      // A first signed call tells a wrong key, secret or region at once.
      await loadCircuit();
    } catch (error) {
      session.credentials = undefined;
      throw error;
    }
    $('sign-in').hidden = true;
    $('dashboard').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = session.user;
    await refreshAll();
    session.timer = setInterval(() => {
      if ($('auto-refresh').checked && document.visibilityState === 'visible') void refreshAll();
    }, AUTO_REFRESH_MS);
  });
}

function signOut() {
  clearInterval(session.timer);
  Object.assign(session, { credentials: undefined, cognito: undefined, user: '', timer: undefined });
  $('password').value = '';
  $('dashboard').hidden = true;
  $('who').hidden = true;
  $('sign-in').hidden = false;
}

// ---- Counts, circuit, lists --------------------------------------------------------------------------------

async function loadCounts() {
  const { counts } = await getJson('/notifications/counts', [['from', hoursAgo(Number($('window').value))]]);
  $('counts').replaceChildren(
    ...STATUSES.map(([status, french, english]) => {
      const { count = 0, capped = false } = counts[status] ?? {};
      const tone = count === 0 ? '' : status === 'sent' ? 'good' : status === 'permanent_failure' ? 'bad' : '';
      return el(
        'li',
        { class: tone, 'data-status': status },
        el('span', { class: 'n' }, capped ? `≥ ${count}` : String(count)),
        ...bilingual(french, english),
      );
    }),
  );
}

function renderCircuit(report) {
  const circuit = report.circuit;
  const open = circuit?.status === 'unavailable';
  const state = $('circuit-state');
  state.className = `state ${open ? 'open' : 'closed'}`;
  state.dataset.state = open ? 'open' : 'closed';
  state.replaceChildren(
    ...(open
      ? bilingual('OUVERT : les notifications sont retenues', 'OPEN: notifications are held')
      : bilingual('FERMÉ : les notifications partent', 'CLOSED: notifications go out')),
  );
  const facts = [];
  const fact = (french, english, value) => facts.push(el('dt', {}, ...bilingual(french, english)), el('dd', {}, value));
  if (!circuit) fact('Depuis', 'since', 'jamais ouvert / never opened');
  else {
    fact('Depuis', 'since', when(circuit.since));
    if (open) {
      fact('Raison', 'reason', circuit.reason ?? '—');
      fact(
        'Forcé',
        'forced',
        circuit.forced
          ? 'oui : seule la fermeture manuelle le ferme / yes'
          : 'non : la prochaine sonde saine le ferme / no',
      );
      if (circuit.recommendation) fact('À faire', 'what to do', circuit.recommendation);
    } else if (circuit.releasePending) {
      fact('Libération', 'release', 'en cours, la prochaine sonde la continue / in progress');
    }
    fact(
      'Dernière sonde',
      'last probe',
      circuit.lastProbeAt ? `${when(circuit.lastProbeAt)} → ${circuit.lastProbeResult ?? '?'}` : '—',
    );
  }
  $('circuit-details').replaceChildren(...facts);
}

async function loadCircuit() {
  renderCircuit(await getJson('/provider/circuit'));
}

async function forceCircuit(action) {
  const reason = $('circuit-reason').value.trim();
  if (
    action === 'open' &&
    !window.confirm('Forcer l’ouverture : plus rien ne part vers WaChap. Continuer ? / Force open?')
  )
    return;
  const report = await postJson('/provider/circuit', action === 'open' && reason ? { action, reason } : { action });
  renderCircuit(report);
  const lines = [`${action} : ok`];
  if (report.probeResult) lines.push(`sonde / probe : ${report.probeResult}`);
  if (action !== 'open') lines.push(`${report.released} libérée(s) / released`);
  say('circuit-result', lines.join(' · '));
  void refreshLists();
}

function row(n) {
  const error = n.lastError
    ? `${n.lastError.type}${n.lastError.httpStatus ? ` ${n.lastError.httpStatus}` : ''} : ${n.lastError.message}`
    : '—';
  const open = () => void openDetail(n.id);
  const tr = el(
    'tr',
    { 'data-id': n.id, tabindex: '0', title: n.id },
    el('td', { 'data-label': 'Créée' }, when(n.createdAt)),
    el(
      'td',
      { 'data-label': 'Statut' },
      el('span', { class: `badge ${n.status}`, 'data-field': 'status' }, n.status),
      n.reason ? el('small', {}, ` ${REASON_TEXT[n.reason] ?? n.reason}`) : null,
    ),
    el(
      'td',
      { 'data-label': 'Destinataire' },
      n.recipient?.phone ?? '—',
      n.recipient?.name ? el('small', {}, ` ${n.recipient.name}`) : null,
    ),
    el('td', { 'data-label': 'Catégorie' }, n.category),
    el('td', { 'data-label': 'Essais' }, `${n.attempts}/${n.maxAttempts}`),
    el('td', { 'data-label': 'Erreur', class: 'error' }, error),
    el('td', { 'data-label': 'Prochain essai' }, n.status === 'failed' ? fromNow(n.nextAttemptAt) : '—'),
  );
  tr.addEventListener('click', open);
  tr.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') open();
  });
  return tr;
}

const LISTS = {
  failures: [['status', 'failed,permanent_failure']],
  held: [
    ['status', 'failed'],
    ['reason', 'provider_unavailable'],
  ],
};

async function loadList(name, more = false) {
  const query = [...LISTS[name], ['limit', String(PAGE)]];
  if (more && session.cursors[name]) query.push(['cursor', session.cursors[name]]);
  const page = await getJson('/notifications', query);
  session.cursors[name] = page.nextCursor ?? undefined;
  const body = $(name).tBodies[0];
  const rows = page.items.map(row);
  if (more) body.append(...rows);
  else {
    body.replaceChildren(
      ...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: '7', class: 'empty' }, 'Aucune · none'))]),
    );
  }
  $(`${name}-more`).hidden = !page.nextCursor;
}

/** Each part loads on its own: one failing (and saying why) leaves the others up to date. */
async function refreshPart(problemId, load) {
  try {
    await load();
    say(problemId, '');
  } catch (error) {
    showProblem(problemId, error);
  }
}

const refreshLists = () =>
  Promise.all([
    refreshPart('failures-problem', () => loadList('failures')),
    refreshPart('held-problem', () => loadList('held')),
  ]);

async function refreshAll() {
  await Promise.all([
    refreshPart('counts-problem', loadCounts),
    refreshPart('circuit-problem', loadCircuit),
    refreshLists(),
    session.detailId && $('detail').open ? refreshPart('detail-problem', () => loadDetail(session.detailId)) : null,
  ]);
}

// ---- One notification -----------------------------------------------------------------------------------------

function renderDetail(n) {
  session.detailId = n.id;
  $('detail-id').textContent = n.id;
  $('detail-status').textContent = `${n.status} · ${STATUS_TEXT[n.status] ?? ''}`;
  $('detail-status').dataset.status = n.status;
  $('detail-reason').textContent = n.reason ? `(${n.reason} · ${REASON_TEXT[n.reason] ?? ''})` : '';
  const facts = (pairs) =>
    pairs
      .filter(([, , value]) => value !== undefined && value !== null && value !== '')
      .flatMap(([french, english, value]) => [
        el('dt', {}, ...bilingual(french, english)),
        el('dd', {}, String(value)),
      ]);
  $('detail-facts').replaceChildren(
    ...facts([
      ['Destinataire', 'recipient', `${n.recipient?.phone ?? ''} ${n.recipient?.name ?? ''}`.trim()],
      ['Catégorie', 'category', `${n.category} (${n.priority})`],
      ['Titre', 'title', n.title],
      ['Message', 'message', n.message],
      ['Essais', 'attempts', `${n.attempts}/${n.maxAttempts}`],
      ['Créée', 'created', when(n.createdAt)],
      ['Mise à jour', 'updated', when(n.updatedAt)],
      [
        'Prochain essai',
        'next attempt',
        n.status === 'failed' || n.status === 'pending' ? fromNow(n.nextAttemptAt) : '',
      ],
      ['Envoyée', 'sent', n.sentAt ? when(n.sentAt) : ''],
      ['Valide jusqu’à', 'valid until', n.expiresAt ? when(n.expiresAt) : ''],
      ['Id WaChap', 'provider id', n.externalMessageId],
      ['Tentative en cours', 'in flight', n.inFlight ? 'oui / yes' : ''],
    ]),
  );
  const e = n.lastError;
  $('detail-error').replaceChildren(
    ...(e
      ? facts([
          ['Type', 'type', `${e.type}${e.httpStatus ? ` (HTTP ${e.httpStatus})` : ''}`],
          ['Message', 'message', e.message],
          ['Classement', 'classification', `${e.classification} · ${e.scope} · ${e.reason}`],
          ['Quand', 'at', when(e.at)],
        ])
      : [el('dd', {}, '—')]),
  );
  const history = [...(n.history ?? [])].reverse();
  $('detail-history').tBodies[0].replaceChildren(
    ...(history.length > 0
      ? history.map((h) =>
          el(
            'tr',
            {},
            el('td', { 'data-label': 'Quand' }, when(h.at)),
            el('td', { 'data-label': 'Résultat' }, el('span', { class: `badge ${h.outcome}` }, h.outcome)),
            el('td', { 'data-label': 'Erreur' }, h.errorType ?? '—'),
            el('td', { 'data-label': 'Durée' }, h.durationMs === undefined ? '—' : `${h.durationMs} ms`),
          ),
        )
      : [el('tr', {}, el('td', { colspan: '4', class: 'empty' }, 'Aucun essai · no attempt yet'))]),
  );
  $('detail-actions').replaceChildren(
    ...(n.operatorActions?.length
      ? n.operatorActions.map((a) =>
          el(
            'li',
            {},
            `${when(a.at)} · ${a.action} (${a.from} →) · ${a.by ?? '?'}${a.reason ? ` · « ${a.reason} »` : ''}`,
          ),
        )
      : [el('li', { class: 'muted' }, 'Aucune · none')]),
  );
  const final = ['sent', 'cancelled'].includes(n.status);
  $('detail-retry').disabled = final;
  $('detail-cancel').disabled = final || ['permanent_failure', 'expired'].includes(n.status);
}

async function loadDetail(id) {
  renderDetail(await getJson(`/notifications/${encodeURIComponent(id)}`));
}

async function openDetail(id) {
  say('detail-result', '');
  say('detail-problem', '');
  $('detail-why').value = '';
  try {
    await loadDetail(id);
    if (!$('detail').open) $('detail').showModal();
  } catch (error) {
    showProblem('lookup-problem', error);
  }
}

async function actOnDetail(action) {
  const reason = $('detail-why').value.trim();
  if (
    action === 'cancel' &&
    !window.confirm('Annuler cette notification ? Elle ne partira jamais. / Cancel it for good?')
  )
    return;
  const view = await postJson(`/notifications/${session.detailId}/${action}`, reason ? { reason } : {});
  renderDetail(view);
  say(
    'detail-result',
    action === 'retry' ? 'Relancée : elle part maintenant. / Re-driven: queued now.' : 'Annulée. / Cancelled.',
  );
  void refreshLists();
}

// ---- Bulk re-drive: a dry run counts, then the same filter re-drives ------------------------------------------------

function redriveFilter() {
  const since = $('redrive-since').value;
  const filter = { status: $('redrive-status').value };
  if ($('redrive-reason').value) filter.reason = $('redrive-reason').value;
  if ($('redrive-category').value.trim()) filter.category = $('redrive-category').value.trim();
  if (since) filter.from = hoursAgo(Number(since));
  return filter;
}

/** Every call of a bulk re-drive (500 matches each), following nextCursor; the sums of their reports. */
async function redriveAll(body) {
  const total = { matched: 0, redriven: 0, skipped: 0, stale: 0, more: false };
  let cursor;
  for (let calls = 0; calls < MAX_CHAINED_CALLS; calls++) {
    const report = await postJson('/notifications/retry', cursor ? { ...body, cursor } : body);
    total.matched += report.matched;
    total.redriven += report.redriven;
    total.skipped += report.skipped;
    total.stale += report.stale ?? 0;
    cursor = report.nextCursor;
    if (!cursor) return total;
  }
  return { ...total, more: true };
}

function forgetCount() {
  session.counted = undefined;
  $('redrive-confirm').disabled = true;
  $('redrive-confirm').replaceChildren(...bilingual('2. Relancer', 'Re-drive'));
}

async function countRedrive() {
  forgetCount();
  say('redrive-result', '');
  const filter = redriveFilter();
  const total = await redriveAll({ ...filter, dryRun: true });
  const stale = total.stale ? ` dont ${total.stale} périmée(s), jamais relancée(s) / stale, never re-driven` : '';
  say(
    'redrive-result',
    `Essai à blanc : ${total.matched}${total.more ? '+' : ''} correspondance(s) / matches${stale}. Rien n’a été changé. / Nothing changed.`,
  );
  $('redrive-result').dataset.matched = String(total.matched);
  if (total.matched - total.stale > 0) {
    session.counted = filter;
    $('redrive-confirm').disabled = false;
    $('redrive-confirm').replaceChildren(...bilingual(`2. Relancer ${total.matched - total.stale}`, 'Re-drive'));
  }
}

async function confirmRedrive() {
  const filter = session.counted;
  if (!filter) return;
  forgetCount();
  const note = $('redrive-note').value.trim();
  const total = await redriveAll({ ...filter, dryRun: false, ...(note ? { note } : {}) });
  say(
    'redrive-result',
    `Relancées / re-driven : ${total.redriven} · ignorées / skipped : ${total.skipped}${total.more ? ' · il en reste : recomptez / more left: count again' : ''}`,
  );
  $('redrive-result').dataset.redriven = String(total.redriven);
  void refreshAll();
}

// ---- Export CSV: every page of the export, signed, as one file ------------------------------------------------------

async function exportCsv() {
  const statuses = [...document.querySelectorAll('#export-form .statuses input:checked')].map((input) => input.value);
  const query = [['from', hoursAgo(Number($('export-since').value))]];
  if (statuses.length > 0) query.push(['status', statuses.join(',')]);
  const parts = [];
  let cursor;
  let calls = 0;
  do {
    const response = await call('GET', '/notifications/export.csv', {
      query: cursor ? [...query, ['cursor', cursor]] : query,
    });
    parts.push(await response.text());
    cursor = response.headers.get('x-next-cursor') ?? undefined;
    calls += 1;
  } while (cursor && calls < MAX_CHAINED_CALLS);
  const csv = parts.join('');
  const rows = Math.max(0, csv.split('\r\n').filter((line) => line !== '').length - 1);
  const link = el('a', {
    href: URL.createObjectURL(new Blob([csv], { type: 'text/csv' })),
    download: `notifications-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.csv`,
  });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
  say(
    'export-result',
    `${rows} ligne(s) / rows${cursor ? ' (limite atteinte : réduisez la période / limit reached)' : ''}`,
  );
}

// ---- Start ----------------------------------------------------------------------------------------------------

function wire() {
  $('static-form').addEventListener('submit', signIn);
  $('cognito-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', signOut);
  $('refresh').addEventListener('click', () => void refreshAll());
  $('window').addEventListener('change', () => void refreshPart('counts-problem', loadCounts));
  for (const [id, action] of [
    ['circuit-open', 'open'],
    ['circuit-close', 'close'],
    ['circuit-probe', 'probe'],
  ]) {
    $(id).addEventListener(
      'click',
      (event) => void busy(event.currentTarget, 'circuit-problem', () => forceCircuit(action)),
    );
  }
  for (const name of Object.keys(LISTS)) {
    $(`${name}-more`).addEventListener(
      'click',
      (event) => void busy(event.currentTarget, `${name}-problem`, () => loadList(name, true)),
    );
  }
  $('redrive-form').addEventListener('input', forgetCount);
  $('redrive-count').addEventListener(
    'click',
    (event) => void busy(event.currentTarget, 'redrive-problem', countRedrive),
  );
  $('redrive-confirm').addEventListener(
    'click',
    (event) => void busy(event.currentTarget, 'redrive-problem', confirmRedrive),
  );
  $('export').addEventListener('click', (event) => void busy(event.currentTarget, 'export-problem', exportCsv));
  $('lookup-form').addEventListener('submit', (event) => {
    event.preventDefault();
    say('lookup-problem', '');
    void openDetail($('lookup-id').value.trim());
  });
  $('detail-close').addEventListener('click', () => $('detail').close());
  $('detail-refresh').addEventListener(
    'click',
    (event) => void busy(event.currentTarget, 'detail-problem', () => loadDetail(session.detailId)),
  );
  $('detail-retry').addEventListener(
    'click',
    (event) => void busy(event.currentTarget, 'detail-problem', () => actOnDetail('retry')),
  );
  $('detail-cancel').addEventListener(
    'click',
    (event) => void busy(event.currentTarget, 'detail-problem', () => actOnDetail('cancel')),
  );
}

async function start() {
  if (!globalThis.crypto?.subtle) {
    // WebCrypto exists only in a secure context: HTTPS, or plain HTTP on localhost and 127.0.0.1.
    say(
      'unsupported',
      'Ouvrez cette page en HTTPS ou sur localhost (signature WebCrypto). / Open this page over HTTPS or on localhost.',
    );
    return;
  }
  wire();
  try {
    const response = await fetch('config.json', { cache: 'no-store' });
    if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
    session.config = await response.json();
  } catch (error) {
    say('unsupported', `Configuration illisible / unreadable: ${error.message}`);
    return;
  }
  const cognitoAuth = session.config.auth === 'cognito';
  $('cognito-form').hidden = !cognitoAuth;
  $('static-form').hidden = cognitoAuth;
  if (!cognitoAuth) {
    // The local stack's one principal (local/doors/api-gateway.ts), prefilled: the page serves nothing else locally.
    $('access-key').value = 'local';
    $('secret-key').value = 'local';
    $('region').value = session.config.region;
  }
  $('sign-in').hidden = false;
}

void start();
