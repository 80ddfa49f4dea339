#!/usr/bin/env node
// Size and cold require() time of libthumb as the zip ships it, beside sharp.
//
//   node tools/bench-require.js [--rounds N] [--sharp-dir DIR]
//
// libthumb: dist/process-images.zip (run ./build first), unpacked into a temporary directory.
// sharp: DIR/node_modules/sharp when --sharp-dir is given (e.g. bench/.peers/node), else sharp 0.35.5
// installed from npm into a temporary directory (what the seed's bin/avatar/build put in its zip:
// sharp and its @img/sharp-linux-x64 + @img/sharp-libvips-linux-x64 binaries).
// Each round starts fresh node processes (alternating libthumb and sharp) that time their own
// require() with process.hrtime; the medians and minimums are printed. Sizes: bytes on disk of each
// module with its native parts, and each zipped with zip -9. Timed targets live here, not in tests.
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');

const here = path.resolve(__dirname, '..');
const repo = path.resolve(here, '../..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const rounds = Number(opt('rounds', 15));
const zip = path.join(process.env.DIST_DIR || path.join(repo, 'dist'), 'process-images.zip');
if (!fs.existsSync(zip)) throw new Error(`${zip} missing: run lambda/process-images/build`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-require-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

const task = path.join(tmp, 'task');
execFileSync('unzip', ['-q', zip, '-d', task]);

let sharpRoot = opt('sharp-dir');
if (!sharpRoot) {
  sharpRoot = path.join(tmp, 'sharp');
  fs.mkdirSync(sharpRoot);
  fs.writeFileSync(path.join(sharpRoot, 'package.json'), '{"name":"sharp-peer","private":true}\n');
  process.stderr.write('bench: npm install sharp@0.35.5 (temporary directory)\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', 'sharp@0.35.5'], { cwd: sharpRoot, stdio: 'inherit' });
}
sharpRoot = path.resolve(sharpRoot);

const du = (p) => Number(execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t')[0]);
function zipped(dir, entries) {
  const z = path.join(tmp, `${path.basename(dir)}-${Math.random().toString(36).slice(2)}.zip`);
  execFileSync('zip', ['-q', '-r', '-9', '-X', z, ...entries], { cwd: dir });
  const n = fs.statSync(z).size;
  fs.rmSync(z);
  return n;
}

// What require('sharp') loads on linux-x64: sharp and its runtime dependencies.
const sharpNm = path.join(sharpRoot, 'node_modules');
const sharpParts = ['sharp', 'detect-libc', 'semver', '@img/colour',
  ...fs.readdirSync(path.join(sharpNm, '@img')).filter((d) => /linux-x64/.test(d)).map((d) => `@img/${d}`)]
  .filter((p) => fs.existsSync(path.join(sharpNm, p)));
const sharpBytes = sharpParts.reduce((s, p) => s + du(path.join(sharpNm, p)), 0);
const sharpZip = zipped(sharpNm, sharpParts);
const thumbDir = path.join(task, 'node_modules', 'libthumb');
const thumbBytes = du(thumbDir);
const thumbZip = zipped(path.join(task, 'node_modules'), ['libthumb']);

function timeRequire(cwd, what) {
  const code = `const c = process.cpuUsage(); const t = process.hrtime.bigint(); require(${JSON.stringify(what)});
    const w = Number(process.hrtime.bigint() - t) / 1e6; const u = process.cpuUsage(c);
    process.stdout.write(w + ' ' + (u.user + u.system) / 1000);`;
  const env = { PATH: process.env.PATH, HOME: cwd, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    DEST_BUCKET_NAME: 'assets.example.com', PROCESS_WIDTH: '512', PROCESS_HEIGHT: '512', AWS_REGION: 'us-east-1' };
  const r = spawnSync(process.execPath, ['-e', code], { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`require(${what}) in ${cwd} failed: ${r.stderr}`);
  const [wall, cpu] = r.stdout.split(' ').map(Number);
  return { wall, cpu };
}
const runs = { libthumb: [], sharp: [], handler: [] };
for (let i = 0; i < rounds; i++) {
  runs.libthumb.push(timeRequire(task, 'libthumb'));
  runs.sharp.push(timeRequire(sharpRoot, 'sharp'));
  runs.handler.push(timeRequire(task, './index.js'));
}
const wall = (k) => runs[k].map((r) => r.wall);
const cpu = (k) => runs[k].map((r) => r.cpu);
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const mb = (b) => `${(b / 1048576).toFixed(2)} MiB`;

console.log(`zip: ${path.relative(repo, zip)} ${fs.statSync(zip).size} bytes (${mb(fs.statSync(zip).size)}), target <= 2 MB`);
console.log(`installed size:  libthumb ${thumbBytes} bytes (${mb(thumbBytes)}; zipped ${mb(thumbZip)})   ` +
  `sharp ${sharpBytes} bytes (${mb(sharpBytes)}; zipped ${mb(sharpZip)}; ${sharpParts.join(', ')})`);
console.log(`require() on a cold process, ${rounds} processes each: wall median (min), CPU time (user+sys) median (min):`);
for (const k of Object.keys(runs)) {
  const label = k === 'handler' ? "the zip's index.js (S3 client + libthumb)" : `require('${k}')`;
  console.log(`  ${label.padEnd(44)} wall ${median(wall(k)).toFixed(2)} ms (${Math.min(...wall(k)).toFixed(2)})` +
    `   cpu ${median(cpu(k)).toFixed(2)} ms (${Math.min(...cpu(k)).toFixed(2)})`);
}
console.log(`  sharp / libthumb: wall ${(median(wall('sharp')) / median(wall('libthumb'))).toFixed(1)}x, ` +
  `cpu ${(median(cpu('sharp')) / median(cpu('libthumb'))).toFixed(1)}x (medians); target: libthumb <= 10 ms`);
