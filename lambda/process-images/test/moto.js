'use strict';
// A real local S3/SNS/SQS for the tests: moto_server from the shared venv (scripts/pyenv) on
// 127.0.0.1 and a free port. It is stopped by stop(), and also when this process dies in any way: it
// runs under a small shell that kills it as soon as its stdin (a pipe from us) closes.
// The repository's one copy of startMoto and freePort: examples/flask-avatar's tests (local_events,
// e2e) require this file by relative path too, which needs no npm ci here (node built-ins only).

const { spawn, execFileSync } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const fs = require('node:fs');
const http = require('node:http');

const REPO = path.resolve(__dirname, '../../..');

function motoServerPath() {
  if (process.env.MOTO_SERVER) return process.env.MOTO_SERVER;
  const py = execFileSync('bash', [path.join(REPO, 'scripts/pyenv')], { encoding: 'utf8' }).trim();
  const exe = path.join(path.dirname(py), 'moto_server');
  if (!fs.existsSync(exe)) throw new Error(`moto_server not found beside ${py} (scripts/requirements-dev.txt: moto[server])`);
  return exe;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/moto-api/', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

const WATCHDOG = '"$0" -H 127.0.0.1 -p "$1" & m=$!; read -r _; kill "$m" 2>/dev/null; wait "$m" 2>/dev/null; exit 0';

async function startMoto({ timeoutMs = 60000 } = {}) {
  const exe = motoServerPath();
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const child = spawn('bash', ['-c', WATCHDOG, exe, String(port)], {
      stdio: ['pipe', 'ignore', 'pipe'],
      detached: true, // its own process group, so stop() can end moto even if the shell is stuck
    });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    let exited = false;
    child.on('exit', () => { exited = true; });
    const deadline = Date.now() + timeoutMs;
    while (!exited && Date.now() < deadline) {
      if (await ping(port)) {
        const endpoint = `http://127.0.0.1:${port}`;
        let stopped = false;
        const stop = () => new Promise((resolve) => {
          if (stopped || exited) { stopped = true; resolve(); return; }
          stopped = true;
          const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} }, 5000);
          child.on('exit', () => { clearTimeout(timer); resolve(); });
          child.stdin.end();
        });
        process.once('exit', () => { try { process.kill(-child.pid, 'SIGKILL'); } catch {} });
        return { endpoint, port, stop };
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    try { process.kill(-child.pid, 'SIGKILL'); } catch {}
    if (!exited && Date.now() >= deadline) throw new Error(`moto_server did not answer on ${port} in ${timeoutMs} ms: ${stderr}`);
    // exited early: most likely the port was taken between freePort() and its bind; try another
  }
  throw new Error('moto_server would not start (3 attempts)');
}

// Environment for SDK clients pointed at moto (dummy credentials, us-east-1).
function awsEnv(endpoint) {
  return {
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SESSION_TOKEN: 'test',
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ENDPOINT_URL: endpoint,
    S3_ENDPOINT: endpoint,
    S3_FORCE_PATH_STYLE: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', // the SDK's "node >= 22 from 2027" notice
  };
}

function clientConfig(endpoint) {
  return {
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  };
}

module.exports = { startMoto, freePort, awsEnv, clientConfig, motoServerPath, REPO };
