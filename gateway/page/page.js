// foureyes' approval and enroll pages: the passkey ceremony, nothing else.
// The page's link (its query string) authenticates every call.
'use strict';

const b64 = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf)))
  .replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const unb64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

async function post(path, body) {
  const r = await fetch(path + location.search, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const j = await r.json().catch(() => ({ error: r.status + ' ' + r.statusText }));
  return [r.status, j];
}

function show(text, cls) {
  const o = document.getElementById('outcome');
  o.textContent = text;
  o.className = cls || '';
}

function buttons(enabled) {
  document.querySelectorAll('button').forEach((b) => { b.disabled = !enabled; });
}

// outcomeText says what the release made of the decision.
function outcomeText(status, a) {
  if (a.error) return ['Not recorded: ' + a.error, 'refused'];
  const why = a.reason ? ': ' + a.reason + (a.rule ? ' (rule ' + a.rule + ')' : '') : '';
  return ['Outcome: ' + a.outcome + why + (a.gate_state ? ' · gate ' + a.gate_state : ''),
    status === 200 ? 'accepted' : 'refused'];
}

async function decide(verdict) {
  buttons(false);
  try {
    const comment = document.getElementById('comment').value;
    show('Rendering your statement…');
    const [st, ch] = await post('/approve/challenge', { verdict, comment });
    if (st !== 200) { show('Refused: ' + ch.error, 'refused'); return; }
    document.getElementById('statement').textContent = ch.statement;
    document.getElementById('signed').hidden = false;
    show('Confirm with your passkey…');
    const cred = await navigator.credentials.get({ publicKey: {
      challenge: unb64(ch.challenge), rpId: ch.rp_id, timeout: ch.timeout_ms, userVerification: 'required',
      allowCredentials: ch.allow_credentials.map((id) => ({ type: 'public-key', id: unb64(id) })),
    } });
    const r = cred.response;
    const [code, ans] = await post('/approve/decide', { nonce: ch.nonce, credential_id: b64(cred.rawId),
      authenticator_data: b64(r.authenticatorData), client_data_json: b64(r.clientDataJSON), signature: b64(r.signature) });
    show(...outcomeText(code, ans));
  } catch (e) {
    show('Passkey failed: ' + e.name + ': ' + e.message, 'refused');
  } finally {
    buttons(true);
  }
}

async function enroll() {
  buttons(false);
  try {
    const [st, o] = await post('/enroll/challenge', {});
    if (st !== 200) { show('Refused: ' + o.error, 'refused'); return; }
    const cred = await navigator.credentials.create({ publicKey: {
      challenge: unb64(o.challenge), rp: { id: o.rp_id, name: 'foureyes' },
      user: { id: unb64(o.user_id), name: o.user_name, displayName: o.user_name },
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }, { type: 'public-key', alg: -8 }],
      authenticatorSelection: { userVerification: 'required', residentKey: 'preferred' },
      excludeCredentials: (o.exclude_credentials || []).map((id) => ({ type: 'public-key', id: unb64(id) })),
      attestation: 'none', timeout: o.timeout_ms,
    } });
    const credential = { id: cred.id, rawId: b64(cred.rawId), type: cred.type, response: {
      clientDataJSON: b64(cred.response.clientDataJSON), attestationObject: b64(cred.response.attestationObject) } };
    const [code, a] = await post('/enroll/finish', { nonce: o.nonce, credential });
    if (code !== 200) { show('Refused: ' + a.error, 'refused'); return; }
    show('Enrolled. Add these lines under ' + a.identity + ' in the policy:', 'accepted');
    const p = document.getElementById('policy');
    p.textContent = a.policy_yaml;
    p.hidden = false;
  } catch (e) {
    show('Passkey failed: ' + e.name + ': ' + e.message, 'refused');
  } finally {
    buttons(true);
  }
}

document.addEventListener('DOMContentLoaded', () => {
  document.querySelectorAll('button[data-verdict]').forEach((b) => {
    b.addEventListener('click', () => decide(b.dataset.verdict));
  });
  const e = document.getElementById('enroll');
  if (e) e.addEventListener('click', enroll);
  document.body.dataset.ready = '1';
});
