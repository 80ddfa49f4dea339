'use strict';
// A throwaway PostgreSQL cluster for the browser story on PostgreSQL: initdb into a temporary
// directory, postgres on 127.0.0.1:<free port> (as the `postgres` user when run as root: initdb
// refuses root), one database. stop() shuts it down (SIGINT: fast shutdown) and removes the directory;
// it is also killed on exit.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('../../../lambda/process-images/test/moto');

function pgBin() {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')));
  versions.sort((a, b) => Number(a) - Number(b));
  return versions.length ? path.join(root, versions[versions.length - 1], 'bin') : null;
}

function tryConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.end();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

async function startPostgres({ timeoutMs = 60000 } = {}) {
  const bin = pgBin();
  if (!bin) throw new Error('PostgreSQL is not installed (bash scripts/setup-deps app)');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cruddur-e2e-pg-'));
  const as = {};
  if (process.getuid && process.getuid() === 0) {
    const id = (flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
    as.uid = id('-u');
    as.gid = id('-g');
    fs.chownSync(tmp, as.uid, as.gid);
  }
  const data = path.join(tmp, 'data');
  const init = spawnSync(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'], {
    cwd: tmp, encoding: 'utf8', ...as,
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const port = await freePort();
  const log = fs.openSync(path.join(tmp, 'postgres.log'), 'w');
  const proc = spawn(path.join(bin, 'postgres'), ['-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', tmp,
    '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'], {
    cwd: tmp, stdio: ['ignore', log, log], ...as,
  });
  const onExit = () => { try { proc.kill('SIGKILL'); } catch (_) { /* gone */ } };
  process.on('exit', onExit);
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  async function stop() {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGINT');
      const t = setTimeout(() => proc.kill('SIGKILL'), 20000);
      await exited;
      clearTimeout(t);
    }
    process.removeListener('exit', onExit);
    fs.closeSync(log);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  const deadline = Date.now() + timeoutMs;
  // ready when the server accepts connections and createdb works
  for (;;) {
    if (proc.exitCode !== null) {
      const text = fs.readFileSync(path.join(tmp, 'postgres.log'), 'utf8');
      await stop();
      throw new Error(`postgres exited: ${text.slice(-2000)}`);
    }
    if (await tryConnect(port)) {
      const c = spawnSync(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'cruddur'], { encoding: 'utf8' });
      if (c.status === 0) break;
      if (Date.now() > deadline) { await stop(); throw new Error(`createdb failed: ${c.stderr}`); }
    } else if (Date.now() > deadline) {
      await stop();
      throw new Error('postgres did not start');
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url: `postgresql://postgres@127.0.0.1:${port}/cruddur`, stop };
}

module.exports = { startPostgres, pgBin };
