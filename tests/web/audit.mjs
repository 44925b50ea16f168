// graphql-http's server audit (the GraphQL-over-HTTP spec) against the real, built leadq:
// every audit must pass, MUST, SHOULD and MAY alike (no failure, no warning).
import { serverAudits } from 'graphql-http';
import { startServer } from './server.mjs';

const deadline = setTimeout(() => {
  console.error('audit: stopped after 120 s');
  process.exit(2);
}, 120_000);

const server = await startServer();
let failed = 0;
let warned = 0;
let passed = 0;
try {
  const fetchFn = (input, init = {}) => {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${server.token}`);
    return fetch(input, { ...init, headers });
  };
  const audits = serverAudits({ url: `${server.url}/graphql`, fetchFn });
  for (const { name, fn } of audits) {
    const result = await fn();
    if (result.status === 'ok') {
      passed += 1;
      continue;
    }
    if (result.status === 'warn') warned += 1;
    else failed += 1;
    const res = result.response;
    let body = '';
    try {
      body = res ? await res.text() : '';
    } catch {
      body = '(body already read)';
    }
    console.log(`${result.status.toUpperCase()} ${name}: ${result.reason}`);
    if (res) console.log(`  HTTP ${res.status} ${res.headers.get('content-type')} ${body.slice(0, 300)}`);
  }
} finally {
  await server.stop();
  clearTimeout(deadline);
}
console.log(`graphql-http audit: ${passed} passed, ${failed} failed, ${warned} warnings`);
process.exit(failed + warned === 0 ? 0 : 1);
