// Starts the built `leadq` binary on a loopback port with a fresh SQLite database, and stops it.
// The binary is $LEADQ_BIN (default: ../../target/debug/leadq, or $CARGO_TARGET_DIR/debug/leadq).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

export function binary() {
  if (process.env.LEADQ_BIN) return process.env.LEADQ_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(here, '..', '..', 'target');
  return join(target, 'debug', 'leadq');
}

/** Starts leadq; resolves { url, token, stop() } once it prints its address and token. */
export async function startServer(extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'leadq-web-'));
  const child = spawn(binary(), ['serve'], {
    env: {
      PATH: process.env.PATH,
      LEADQ_DATABASE_URL: `sqlite://${join(dir, 'leadq.db')}?mode=rwc`,
      LEADQ_BIND: '127.0.0.1:0',
      LEADQ_LOG_FORMAT: 'text',
      RUST_LOG: process.env.RUST_LOG || 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const started = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`leadq did not start within 60 s:\n${out}`)), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`leadq exited (${code}) before it was ready:\n${out}`));
    });
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const url = out.match(/listening on (http:\/\/\S+)/);
      const token = out.match(/Authorization: Bearer (\S+)/);
      if (url && token) {
        clearTimeout(timer);
        resolve({ url: url[1], token: token[1] });
      }
    });
  });
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { url, token } = await started;
    return { url, token, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
