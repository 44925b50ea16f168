// The SPA in a real browser (Debian's chromium, driven by playwright-core), against leadq on
// another origin: the built app (dist/) is served by a static server on one loopback port, leadq
// on another with LEADQ_CORS_ORIGINS naming the app's origin, so every call is cross-origin.
//
//   node test/walk.mjs sqlite      # a fresh SQLite file
//   node test/walk.mjs postgres    # a fresh PostgreSQL database (PG_HOST/PG_PORT/PG_USER), dropped after
//
// The walk: sign in (development token, a bad token's error, a seller's pasted token), My Open
// Leads paged and searched, create a lead whose company matches an existing account, qualify it
// (duplicates found, resolved as "use existing"), disqualify another and reactivate it,
// bulk-qualify three, qualify two in a job followed live over the WebSocket, qualify one whose
// contact the settings leave to the seller, open the app served by `leadq --spa`; after each step the
// records are checked through the API. A screenshot of each screen goes to
// screenshots/<database>/ (SPA_SCREENSHOTS overrides). Bounded in time; loopback only; ends
// with "N passed, N failed".
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { binary, startServer } from '../../../tests/web/server.mjs';
import { serveStatic } from './static.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const engine = process.argv[2] || process.env.SPA_DB || 'sqlite';
if (!['sqlite', 'postgres'].includes(engine)) {
  console.error(`usage: node test/walk.mjs sqlite|postgres (not ${engine})`);
  process.exit(2);
}
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SHOTS = process.env.SPA_SCREENSHOTS || join(here, '..', 'screenshots', engine);
const DIST = join(here, '..', 'dist');
const deadline = setTimeout(() => {
  console.error('spa walk: stopped after 300 s');
  process.exit(2);
}, 300_000);

/** The first element with this data-testid whose text matches (a string: contained; a RegExp). */
const withText = (scope, testId, text) => scope.locator(`[data-testid="${testId}"]`, { hasText: text }).first();

const checks = [];
const check = (name, ok, detail = '') => {
  checks.push({ name, ok });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || detail === '' ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`}`);
  return ok;
};

const isLoopback = (url) => {
  try {
    const { protocol, hostname } = new URL(url);
    if (['data:', 'blob:', 'about:'].includes(protocol)) return true;
    return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(hostname);
  } catch {
    return false;
  }
};

// --- the database -------------------------------------------------------------------------
const scratch = mkdtempSync(join(tmpdir(), 'leadq-spa-'));
let databaseUrl = `sqlite://${join(scratch, 'leadq.db')}?mode=rwc`;
let dropDatabase = () => {};
if (engine === 'postgres') {
  const host = process.env.PG_HOST || '127.0.0.1';
  const port = process.env.PG_PORT || '5432';
  const user = process.env.PG_USER || 'postgres';
  const name = `leadq_spa_${Date.now()}_${process.pid}`;
  const psql = (sql) =>
    execFileSync('psql', ['-h', host, '-p', port, '-U', user, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], {
      stdio: ['ignore', 'ignore', 'inherit'],
      timeout: 30_000,
    });
  psql(`CREATE DATABASE ${name}`);
  databaseUrl = `postgres://${user}@${host}:${port}/${name}`;
  dropDatabase = () => {
    try {
      psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } catch (err) {
      console.error(`could not drop ${name}: ${err}`);
    }
  };
}

// --- the API, from outside the browser ------------------------------------------------------
let leadq;
const api = async (token, query, variables = {}) => {
  const response = await fetch(`${leadq.url}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`${query.slice(0, 60)}: ${JSON.stringify(body.errors)}`);
  return body.data;
};
const createLead = async (token, input) =>
  (await api(token, 'mutation($input: CreateLeadInput!) { createLead(input: $input) { lead { id } } }', { input })).createLead.lead.id;
const leadRecord = async (token, id) =>
  (
    await api(
      token,
      `query($id: ID!) { lead(id: $id) { id state statusReason qualifiedAccount { id name } qualifiedContact { id }
                                       opportunities { id } } }`,
      { id },
    )
  ).lead;

let browser;
let site;
try {
  if (!existsSync(join(DIST, 'index.html'))) throw new Error(`no built app in ${DIST}: run npm run build first`);
  mkdirSync(SHOTS, { recursive: true });
  site = await serveStatic(DIST);
  leadq = await startServer({
    LEADQ_DATABASE_URL: databaseUrl,
    LEADQ_CORS_ORIGINS: site.origin,
    // leadq also serves the built app itself (`--spa`), checked at the end.
    LEADQ_SPA_DIR: DIST,
  });
  check(`leadq (${engine}) at ${leadq.url}, the app at ${site.origin}: two origins`, new URL(leadq.url).origin !== site.origin);
  const admin = leadq.token;
  const seller = execFileSync(binary(), ['token', '--name', 'Sam Seller', '--role', 'SALESPERSON'], {
    env: { PATH: process.env.PATH, LEADQ_DATABASE_URL: databaseUrl, RUST_LOG: 'warn' },
    encoding: 'utf8',
    timeout: 60_000,
  }).trim();

  // CORS as the browser will ask for it: the app's origin is allowed, another is not.
  const preflight = (origin) =>
    fetch(`${leadq.url}/graphql`, {
      method: 'OPTIONS',
      headers: {
        Origin: origin,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type',
      },
    });
  const allowed = await preflight(site.origin);
  check('the preflight from the app origin is allowed', allowed.headers.get('access-control-allow-origin') === site.origin,
    `${allowed.status} ${allowed.headers.get('access-control-allow-origin')}`);
  const refused = await preflight('http://127.0.0.1:9');
  check('a preflight from another origin is not', refused.headers.get('access-control-allow-origin') === null,
    `${refused.status} ${refused.headers.get('access-control-allow-origin')}`);

  // Data: an existing account the new lead will match, and the seller's leads.
  const stamp = Date.now().toString(36);
  const fabrikam = (await api(admin, 'mutation { createAccount(input: { name: "Fabrikam" }) { account { id } } }')).createAccount.account.id;
  for (let i = 1; i <= 8; i++) {
    await createLead(seller, { topic: `Filler ${i}`, lastName: `Filler${i}`, companyName: `Filler Co ${i}` });
  }
  const toDisqualify = await createLead(seller, { topic: 'Disqualify me', firstName: 'Dan', lastName: 'Quill', companyName: `Dq ${stamp}` });
  const bulkIds = [];
  for (const [i, name] of ['Ada', 'Ben', 'Cy'].entries()) {
    bulkIds.push(
      await createLead(seller, { topic: `Northwind deal ${i + 1}`, firstName: name, lastName: `North${i + 1}`,
        companyName: `Northwind ${i + 1} ${stamp}`, email: `${name.toLowerCase()}.${stamp}@northwind${i + 1}.example.com` }),
    );
  }
  const jobIds = [];
  for (const i of [1, 2]) {
    jobIds.push(await createLead(seller, { topic: `Jobbed ${i}`, lastName: `Jobbed${i}`, companyName: `Job Co ${i} ${stamp}` }));
  }

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost'],
  });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const leaks = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLoopback(url)) return route.continue();
    leaks.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  page.on('console', (m) => {
    if (process.env.DEBUG || m.type() === 'error') console.log(`console.${m.type()}: ${m.text()}`);
  });
  const apiOrigins = new Set();
  page.on('request', (r) => {
    if (r.url().includes('/graphql')) apiOrigins.add(new URL(r.url()).origin);
  });
  let shot = 0;
  const screenshot = async (name) => {
    shot += 1;
    await page.screenshot({ path: join(SHOTS, `${String(shot).padStart(2, '0')}-${name}.png`), fullPage: true });
  };

  // --- sign in ---
  await page.goto(`${site.origin}/?server=${encodeURIComponent(leadq.url)}`);
  await page.getByRole('button', { name: 'Sign in' }).waitFor();
  check('the sign-in screen offers leadq at its own origin', (await page.getByLabel('leadq address').inputValue()) === leadq.url);
  await screenshot('sign-in');
  await page.getByRole('button', { name: 'Use the development token' }).click();
  await withText(page, 'who', 'Development Administrator').waitFor();
  check('"Use the development token" signs in as the Development Administrator', true);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('Token').fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  const signInError = await page.getByTestId('error').innerText();
  check('a bad token is shown by its code\'s meaning', /token is missing, expired or not valid/.test(signInError) && /UNAUTHENTICATED/.test(signInError), signInError);
  await screenshot('sign-in-error');
  await page.getByLabel('Token').fill(seller);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await withText(page, 'who', 'Sam Seller').waitFor();
  check('a pasted token signs in (Sam Seller, SALESPERSON)', /SALESPERSON/.test(await page.getByTestId('who').innerText()));

  // --- My Open Leads: paged and searchable ---
  const table = page.getByTestId('lead-table');
  const rows = table.locator('tbody tr[data-lead-id]');
  await page.getByRole('heading', { name: 'My Open Leads' }).waitFor();
  await withText(page, 'page-info', 'Page 1 of 2 · 14 leads').waitFor();
  check('My Open Leads shows the first page of 10 of 14', (await rows.count()) === 10, await rows.count());
  await screenshot('my-open-leads');
  await page.getByRole('button', { name: 'Next' }).click();
  await withText(page, 'page-info', 'Page 2 of 2').waitFor();
  check('the next page has the other 4', (await rows.count()) === 4, await rows.count());
  await page.getByRole('button', { name: 'Previous' }).click();
  await withText(page, 'page-info', 'Page 1 of 2').waitFor();
  await page.getByLabel('Search leads').fill('northwind');
  await page.getByRole('button', { name: 'Search' }).click();
  await withText(page, 'page-info', 'Page 1 of 1 · 3 leads').waitFor();
  check('searching "northwind" finds the three Northwind leads', (await rows.count()) === 3, await rows.count());

  // --- create a lead whose company is an existing account ---
  await page.getByRole('link', { name: 'New lead', exact: true }).first().click();
  const form = page.getByTestId('new-lead-form');
  await form.locator('input[name=topic]').fill('Fabrikam expansion');
  await form.locator('input[name=firstName]').fill('Fiona');
  await form.locator('input[name=lastName]').fill('Fabri');
  await form.locator('input[name=companyName]').fill('Fabrikam');
  await form.locator('input[name=email]').fill(`fiona.${stamp}@fabrikam.example.com`);
  await form.locator('input[name=budgetAmount]').fill('50000');
  await form.locator('input[name=currencyCode]').fill('USD');
  await page.getByRole('button', { name: 'Create lead' }).click();
  const created = page.getByTestId('created');
  await created.waitFor();
  const newLeadId = await created.getAttribute('data-lead-id');
  await screenshot('new-lead');
  const stored = await leadRecord(admin, newLeadId);
  check('the lead is created (API: OPEN, owned by the seller)', stored?.state === 'OPEN', stored);

  // --- qualify it: duplicates found, resolved as "use existing" ---
  await created.getByRole('link', { name: 'Open the lead' }).click();
  const pane = page.getByTestId('qualify-pane');
  await withText(pane, 'duplicates-account', 'Fabrikam').waitFor();
  await withText(pane, 'preview-outcome', 'DUPLICATES_FOUND').waitFor();
  check('the preview reports the existing account Fabrikam as a duplicate', true);
  await screenshot('qualify-pane');
  await pane.getByTestId('qualify-button').click();
  await pane.locator('[data-testid=qualify-result][data-outcome=DUPLICATES_FOUND]').waitFor();
  check('qualifying without a choice answers DUPLICATES_FOUND and writes nothing', (await leadRecord(admin, newLeadId)).state === 'OPEN');
  await pane.getByRole('button', { name: 'Use existing account Fabrikam' }).click();
  await withText(pane, 'preview-account', 'USE_EXISTING Fabrikam').waitFor();
  await withText(pane, 'preview-outcome', /^QUALIFIED$/).waitFor();
  check('"use existing" makes the preview link Fabrikam', true);
  await screenshot('qualify-use-existing');
  await pane.getByTestId('qualify-button').click();
  await withText(page, 'lead-state', /^QUALIFIED$/).waitFor();
  await screenshot('qualified');
  const qualified = await leadRecord(admin, newLeadId);
  check('API: the lead is QUALIFIED to the existing Fabrikam account',
    qualified.state === 'QUALIFIED' && qualified.qualifiedAccount?.id === fabrikam && qualified.opportunities.length === 1, qualified);
  const fabrikams = (await api(admin, '{ accounts(search: "Fabrikam") { totalCount } }')).accounts.totalCount;
  check('API: still exactly one Fabrikam account', fabrikams === 1, fabrikams);

  // --- disqualify another, then reactivate it ---
  await page.goto(`${site.origin}/?server=${encodeURIComponent(leadq.url)}#/leads`);
  await page.getByLabel('Search leads').fill('Disqualify me');
  await page.getByRole('button', { name: 'Search' }).click();
  await withText(page, 'page-info', '· 1 leads').waitFor();
  await rows.first().getByRole('link', { name: 'Disqualify me' }).click();
  const disqualify = page.getByTestId('disqualify');
  await disqualify.getByLabel('Disqualify reason').selectOption('CANNOT_CONTACT');
  await screenshot('disqualify');
  await disqualify.getByRole('button', { name: 'Disqualify' }).click();
  await withText(page, 'lead-state', 'DISQUALIFIED').waitFor();
  await screenshot('disqualified');
  const dq = await leadRecord(admin, toDisqualify);
  check('API: the other lead is DISQUALIFIED, CANNOT_CONTACT', dq.state === 'DISQUALIFIED' && dq.statusReason === 'CANNOT_CONTACT', dq);
  await page.getByRole('button', { name: 'Reactivate' }).click();
  await withText(page, 'lead-state', /^OPEN$/).waitFor();
  const reopened = await leadRecord(admin, toDisqualify);
  check('API: reactivated, it is OPEN again', reopened.state === 'OPEN' && reopened.statusReason === 'NEW', reopened);

  // --- bulk-qualify three ---
  await page.getByRole('link', { name: 'Leads', exact: true }).click();
  await page.getByLabel('Search leads').fill('northwind');
  await page.getByRole('button', { name: 'Search' }).click();
  await withText(page, 'page-info', '· 3 leads').waitFor();
  for (const i of [1, 2, 3]) await page.getByLabel(`Select Northwind deal ${i}`).check();
  await page.getByTestId('bulk-panel').getByRole('button', { name: 'Qualify 3 selected' }).click();
  const results = page.getByTestId('bulk-results');
  await results.waitFor();
  const counts = await page.getByTestId('bulk-counts').innerText();
  const qualifiedRows = await results.locator('tr[data-outcome=QUALIFIED]').count();
  check('the bulk results show three QUALIFIED, per lead', qualifiedRows === 3 && /3 qualified/.test(counts), counts);
  await screenshot('bulk-qualified');
  const bulkRecords = await Promise.all(bulkIds.map((id) => leadRecord(admin, id)));
  check('API: the three leads are QUALIFIED, each with its own new account',
    bulkRecords.every((l) => l.state === 'QUALIFIED' && l.qualifiedAccount && l.qualifiedAccount.id !== fabrikam) &&
      new Set(bulkRecords.map((l) => l.qualifiedAccount.id)).size === 3,
    bulkRecords);

  // --- a job, followed live over the WebSocket ---
  await page.getByLabel('Search leads').fill('Jobbed');
  await page.getByRole('button', { name: 'Search' }).click();
  await withText(page, 'page-info', '· 2 leads').waitFor();
  for (const i of [1, 2]) await page.getByLabel(`Select Jobbed ${i}`).check();
  await page.getByRole('button', { name: 'Qualify in a background job' }).click();
  await page.getByTestId('job').waitFor();
  const jobId = decodeURIComponent(new URL(page.url()).hash.split('/').pop());
  await withText(page, 'job-state', 'SUCCEEDED').waitFor({ timeout: 60_000 });
  await page.getByTestId('job-results').locator('tr[data-outcome=QUALIFIED]').nth(1).waitFor();
  // The subscription ends after the job's last event.
  await withText(page, 'job-live', 'Subscription ended').waitFor({ timeout: 30_000 }).catch(() => {});
  const liveText = await page.getByTestId('job-live').innerText();
  const events = Number((liveText.match(/(\d+) progress event/) || [])[1] || 0);
  check('the job page received progress over the WebSocket subscription, to its end', events >= 1 && /Subscription ended/.test(liveText), liveText);
  check('the job page shows 2 of 2 qualified', /2 of 2 \(100 %\) · 2 qualified/.test(await page.getByTestId('job-progress').innerText()));
  await screenshot('job');
  const job = (await api(admin, 'query($id: ID!) { qualificationJob(id: $id) { state qualifiedCount total } }', { id: jobId })).qualificationJob;
  const jobLeads = await Promise.all(jobIds.map((id) => leadRecord(admin, id)));
  check('API: the job SUCCEEDED and its two leads are QUALIFIED',
    job.state === 'SUCCEEDED' && job.qualifiedCount === 2 && jobLeads.every((l) => l.state === 'QUALIFIED'), { job, jobLeads });

  // --- the choices the settings ask for: NEW experience, the seller decides the contact ---
  const choiceLead = await createLead(seller, { topic: 'Seller decides', firstName: 'Cho', lastName: `Ice${stamp}`,
    companyName: `Choice Co ${stamp}`, email: `cho.${stamp}@choice.example.com` });
  await api(admin, `mutation { updateQualificationSettings(input: { experience: NEW, accountCreation: AUTOMATIC,
    contactCreation: SELLER, opportunityCreation: AUTOMATIC }) { settings { experience } } }`);
  await page.goto(`${site.origin}/?server=${encodeURIComponent(leadq.url)}#/leads/${choiceLead}`);
  await withText(pane, 'required-contact', 'contact').waitFor();
  await pane.locator('[data-testid=preview-error] [data-code=CHOICE_REQUIRED]').waitFor();
  check('under NEW / contact SELLER the pane asks for the contact choice (CHOICE_REQUIRED by its meaning)',
    /choose what to do with this record/.test(await pane.getByTestId('preview-error').innerText()));
  await screenshot('qualify-choice-required');
  await pane.getByLabel('contact choice').selectOption('CREATE_NEW||');
  await withText(pane, 'preview-outcome', /^QUALIFIED$/).waitFor();
  await pane.getByTestId('qualify-button').click();
  await withText(page, 'lead-state', /^QUALIFIED$/).waitFor();
  const chosen = await leadRecord(admin, choiceLead);
  check('API: qualified with the chosen new contact', chosen.state === 'QUALIFIED' && chosen.qualifiedContact !== null, chosen);

  // --- leadq serving the app itself (`leadq serve --spa DIR`): same origin, no CORS needed ---
  const same = await context.newPage();
  same.on('pageerror', (err) => pageErrors.push(String(err)));
  await same.goto(`${leadq.url}/#/leads`);
  await same.getByRole('button', { name: 'Use the development token' }).click();
  await withText(same, 'who', 'Development Administrator').waitFor();
  await withText(same, 'page-info', 'leads').waitFor();
  check('leadq --spa serves the app on its own origin, which signs in and lists leads', (await same.getByLabel('View').inputValue()) === 'MY_OPEN_LEADS');
  await same.close();

  // --- what the page talked to ---
  check('every API call went to leadq\'s origin, not the app\'s', apiOrigins.size === 1 && apiOrigins.has(new URL(leadq.url).origin), [...apiOrigins]);
  check('no page errors', pageErrors.length === 0, pageErrors.join('; '));
  check('nothing was fetched from outside loopback', leaks.length === 0, leaks.join(', '));
  console.log(`screenshots: ${SHOTS}`);
} catch (err) {
  check('the walk ran to its end', false, err && err.stack ? err.stack : String(err));
} finally {
  if (browser) await browser.close().catch(() => {});
  if (leadq) await leadq.stop().catch(() => {});
  if (site) await site.close().catch(() => {});
  dropDatabase();
  rmSync(scratch, { recursive: true, force: true });
  clearTimeout(deadline);
}
const failed = checks.filter((c) => !c.ok).length;
console.log(`spa walk (${engine}): ${checks.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
