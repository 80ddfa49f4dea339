#!/usr/bin/env node
// npm's install step: builds build/Release/libthumb.node with CMake, offline.
// libthumb's C sources: THUMB_ROOT, else the repository this package sits in (bindings/node).
// Node-API headers: NODE_API_INCLUDE, else the node-api-headers package when installed, else the
// running node's own include/node (Debian and NodeSource: /usr/include/node). Never downloads.
'use strict';
const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');

const pkg = fs.realpathSync(path.join(__dirname, '..'));
const say = (m) => process.stderr.write(`libthumb: ${m}\n`);

function thumbRoot() {
  const candidates = [process.env.THUMB_ROOT, path.join(pkg, '..', '..')].filter(Boolean);
  for (const c of candidates) {
    if (fs.existsSync(path.join(c, 'include', 'thumb.h')) && fs.existsSync(path.join(c, 'CMakeLists.txt'))) {
      return fs.realpathSync(c);
    }
  }
  throw new Error(`libthumb's C sources not found (tried ${candidates.join(', ')}); set THUMB_ROOT`);
}

function napiInclude() {
  const candidates = [];
  if (process.env.NODE_API_INCLUDE) candidates.push(process.env.NODE_API_INCLUDE);
  try {
    candidates.push(require('node-api-headers').include_dir);
  } catch (_) { /* not installed: fall back to node's own headers */ }
  candidates.push(path.join(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node');
  for (const c of candidates) if (c && fs.existsSync(path.join(c, 'node_api.h'))) return path.resolve(c);
  throw new Error(`node_api.h not found (tried ${candidates.join(', ')}); npm install node-api-headers or set NODE_API_INCLUDE`);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}${r.error.code === 'ENOENT' ? ' (apt-get install cmake build-essential)' : ''}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with status ${r.status}`);
}

function has(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

try {
  const root = thumbRoot();
  const inc = napiInclude();
  const bdir = path.join(pkg, 'build', 'cmake');
  const gen = !fs.existsSync(path.join(bdir, 'CMakeCache.txt')) && has('ninja') ? ['-G', 'Ninja'] : [];
  say(`building the addon (libthumb at ${root}, Node-API headers at ${inc})`);
  run('cmake', ['-S', pkg, '-B', bdir, ...gen, '-DCMAKE_BUILD_TYPE=Release', `-DTHUMB_ROOT=${root}`, `-DNODE_API_INCLUDE=${inc}`]);
  run('cmake', ['--build', bdir, '--target', 'thumb_node', '-j', String(Math.max(1, require('os').cpus().length))]);
  const out = path.join(pkg, 'build', 'Release', 'libthumb.node');
  if (!fs.existsSync(out)) throw new Error(`${out} was not produced`);
  say(`built ${out}`);
} catch (e) {
  say(`build failed: ${e.message}`);
  process.exit(1);
}
