// The GraphiQL playground in a real browser (Debian's chromium, driven by playwright-core), with
// every request that leaves the loopback interface blocked: the page must load from leadq alone,
// run `{ me { name } }` with the development token it shows in the Headers editor, show
// QueryRoot in the Docs explorer, and run a subscription over the WebSocket.
import { chromium } from 'playwright-core';
import { startServer } from './server.mjs';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const deadline = setTimeout(() => {
  console.error('browser test: stopped after 180 s');
  process.exit(2);
}, 180_000);

const checks = [];
const check = (name, ok, detail = '') => {
  checks.push({ name, ok });
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${ok || !detail ? '' : `: ${detail}`}`);
};

const isLoopback = (url) => {
  try {
    const { protocol, hostname } = new URL(url);
    if (protocol === 'data:' || protocol === 'blob:' || protocol === 'about:') return true;
    return ['127.0.0.1', 'localhost', '[::1]', '::1'].includes(hostname);
  } catch {
    return false;
  }
};

const server = await startServer();
let browser;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      // No route but loopback: any other host fails to resolve.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost',
    ],
  });
  const context = await browser.newContext();
  const leaks = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (isLoopback(url)) return route.continue();
    leaks.push(url);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (err) => pageErrors.push(String(err)));
  if (process.env.DEBUG) page.on('console', (m) => console.log('console:', m.type(), m.text()));

  const response = await page.goto(`${server.url}/graphql`, { waitUntil: 'load' });
  check('the page is served', response && response.status() === 200, response && response.status());
  await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
  check('GraphiQL renders from embedded assets', true);

  const headersText = await page.locator('.graphiql-editor-tool').innerText({ timeout: 10_000 });
  check(
    'the development token is visible in the Headers editor',
    /Authorization/.test(headersText) && /Bearer /.test(headersText),
    headersText.slice(0, 200),
  );

  await page.evaluate(() => {
    const editor = document.querySelector('.graphiql-query-editor .CodeMirror');
    editor.CodeMirror.setValue('{ me { name } }');
  });
  await page.locator('.graphiql-execute-button').click();
  const result = page.locator('.graphiql-response');
  await result.getByText('Development Administrator').waitFor({ timeout: 20_000 });
  const resultText = await result.innerText();
  check('{ me { name } } runs with the token', /Development Administrator/.test(resultText), resultText);
  check('the answer has no errors', !/"errors"/.test(resultText), resultText);

  await page.locator('[aria-label="Show Documentation Explorer"]').click();
  const docs = page.locator('.graphiql-doc-explorer');
  await docs.getByText('QueryRoot').first().waitFor({ timeout: 20_000 });
  check('the Docs explorer shows QueryRoot (introspection works)', true);

  await page.locator('[aria-label="Show GraphiQL Explorer"]').click();
  await page.locator('.graphiql-explorer-root, .docExplorerWrap').first().waitFor({ timeout: 20_000 });
  check('the explorer plugin opens', true);

  // Subscriptions run over the same WebSocket endpoint, with the token of the Headers editor in
  // connection_init: subscribe to lead events, create a lead over HTTP, see its CREATED event.
  await page.evaluate(() => {
    const editor = document.querySelector('.graphiql-query-editor .CodeMirror');
    editor.CodeMirror.setValue('subscription LiveLeads { leadEvents(filter: { kinds: [CREATED] }) { kind lead { lastName } } }');
  });
  // GraphiQL parses the edited document after a short debounce; run it once that is done.
  await page.waitForTimeout(1_000);
  await page.locator('.graphiql-execute-button').click();
  // Until the subscription is live a created lead's event may pass it by: create one every
  // second until one shows (at most 20).
  const createLead = () =>
    page.evaluate(async () => {
      const config = JSON.parse(document.getElementById('leadq-config').textContent);
      const response = await fetch(config.endpoint, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...(config.headers || {}) },
        body: JSON.stringify({
          query: 'mutation { createLead(input: { topic: "Seen live", lastName: "Subscriber" }) { lead { id } } }',
        }),
      });
      return response.status;
    });
  let seen = false;
  for (let i = 0; i < 20 && !seen; i++) {
    const status = await createLead();
    if (status !== 200) {
      check('a lead is created while the subscription runs', false, String(status));
      break;
    }
    seen = await result
      .getByText('Subscriber')
      .first()
      .waitFor({ timeout: 1_000 })
      .then(() => true, () => false);
  }
  const eventText = await result.innerText();
  check(
    'GraphiQL shows the lead event over the WebSocket subscription',
    seen && /CREATED/.test(eventText),
    eventText,
  );
  await page.locator('.graphiql-execute-button').click(); // stop the subscription

  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  check('no page errors', pageErrors.length === 0, pageErrors.join('; '));
  check('nothing was fetched from outside loopback', leaks.length === 0, leaks.join(', '));
} catch (err) {
  check('the browser test ran to its end', false, err && err.stack ? err.stack : String(err));
} finally {
  if (browser) await browser.close();
  await server.stop();
  clearTimeout(deadline);
}
const failed = checks.filter((c) => !c.ok).length;
console.log(`browser: ${checks.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
