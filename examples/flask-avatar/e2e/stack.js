'use strict';
// The app's whole local stack for a test: examples/flask-avatar/serve --no-install on a free loopback
// port (serve picks free ports for the app and moto_server), its logs in a temporary directory.
// stop() ends it (SIGTERM to serve, which stops its parts in order; SIGKILL to its whole process group
// after 30 s); the group is also killed on exit, so a failing or timed-out test never leaves a server behind.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const HERE = __dirname;
const APP_DIR = path.resolve(HERE, '..');
const REPO = path.resolve(APP_DIR, '../..');

function killGroup(child, sig) {
  try {
    process.kill(-child.pid, sig);
  } catch (_) {
    /* already gone */
  }
}

async function startStack({ timeoutMs = 120000, env = {} } = {}) {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cruddur-e2e-'));
  const child = spawn('bash', [path.join(APP_DIR, 'serve'), '--no-install'], {
    cwd: REPO,
    env: { ...process.env, PORT: '0', LOG_DIR: logDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so stop() reaches every part
  });
  let output = '';
  const onExit = () => killGroup(child, 'SIGKILL');
  process.on('exit', onExit);

  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not get ready in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const take = (chunk) => {
      output += chunk;
      const m = /serve: ready: open (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}) before it was ready:\n${output}\n${readLogs(logDir)}`));
    });
  });

  const exited = new Promise((resolve) => child.on('exit', resolve));
  async function stop() {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(child.pid, 'SIGTERM'); // serve stops its parts in order (app, runner, moto)
    const t = setTimeout(() => killGroup(child, 'SIGKILL'), 30000);
    await exited;
    clearTimeout(t);
    process.removeListener('exit', onExit);
  }
  return { url, logDir, stop, output: () => output, log: (name) => readLog(logDir, name) };
}

function readLog(dir, name) {
  try {
    return fs.readFileSync(path.join(dir, `${name}.log`), 'utf8');
  } catch (_) {
    return '';
  }
}

function readLogs(dir) {
  return ['moto', 'local_events', 'app']
    .map((n) => `--- ${n}.log (end)\n${readLog(dir, n).split('\n').slice(-30).join('\n')}`)
    .join('\n');
}

module.exports = { startStack, readLogs, REPO, APP_DIR };
