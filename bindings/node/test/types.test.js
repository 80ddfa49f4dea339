'use strict';
// index.d.ts describes the chain: a sample that uses all of it compiles with tsc --strict, and
// calls the types rule out (rotate(angle), webp(), unknown kernels) are errors.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { spawnSync } = require('child_process');

test('index.d.ts: a strict TypeScript sample of the chain compiles', () => {
  const tsc = require.resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--esModuleInterop', '--target', 'es2020',
    '--module', 'commonjs', '--types', 'node', path.join(__dirname, 'types', 'usage.ts')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
