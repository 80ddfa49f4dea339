#!/usr/bin/env node
// libthumb's Node addon against sharp, in one Node process, on the avatar job:
//   sharp(buf).resize(512, 512).jpeg().toBuffer()   and the same chain on require('libthumb').
//
//   node bench/node_vs_sharp.js           full run (9 alternating rounds of ~1 s per library)
//   node bench/node_vs_sharp.js --quick   sanity run (2 rounds of ~0.2 s; figures not for the record)
//
// One core each: sharp.concurrency(1) (libvips uses one thread per image) and every job is awaited
// before the next, so each library has one job on one thread at a time; the process runs with
// UV_THREADPOOL_SIZE=2 (it re-executes itself to set it: the pool size is read once, at its start)
// so that the "2 at once" rows can use two threads, one job each. Both libraries' jobs run on the
// libuv pool. Also measured: require() time in a fresh node process (median of several) and the
// installed size of each package with its native dependencies.
//
// Where things come from: libthumb from bindings/node (THUMB_NODE_PATH; built by `npm ci` there);
// sharp from bench/.peers/node (bench/run installs it) or bindings/node's devDependency (SHARP_PATH).
// Corpus: $THUMB_CORPUS, else <repo>/../shared/corpus. Prints a markdown table.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync, execFileSync } = require('child_process');

const POOL = '2';
if (process.env.UV_THREADPOOL_SIZE !== POOL) {
  const r = spawnSync(process.execPath, [__filename, ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, UV_THREADPOOL_SIZE: POOL }
  });
  process.exit(r.status === null ? 1 : r.status);
}

const quick = process.argv.includes('--quick');
const root = path.resolve(__dirname, '..');
const corpus = path.resolve(process.env.THUMB_CORPUS || path.join(root, '..', 'shared', 'corpus'));
const avatarPath = path.join(corpus, 'photos', '2569067123_aca715a2ee_o.jpg');
const thumbPath = path.resolve(process.env.THUMB_NODE_PATH || path.join(root, 'bindings', 'node'));

function findSharp() {
  const candidates = [process.env.SHARP_PATH, path.join(__dirname, '.peers', 'node', 'node_modules', 'sharp'),
    path.join(root, 'bindings', 'node', 'node_modules', 'sharp')].filter(Boolean);
  for (const c of candidates) if (fs.existsSync(path.join(c, 'package.json'))) return path.resolve(c);
  throw new Error(`sharp not found (tried ${candidates.join(', ')}): run bench/run or npm ci in bindings/node, or set SHARP_PATH`);
}
const sharpPath = findSharp();

const thumb = require(thumbPath);
const sharp = require(sharpPath);
sharp.concurrency(1);
sharp.cache(false);

const buf = fs.readFileSync(avatarPath);
const LIBS = [
  { name: 'libthumb', job: () => thumb(buf).resize(512, 512).jpeg().toBuffer() },
  { name: 'sharp', job: () => sharp(buf).resize(512, 512).jpeg().toBuffer() }
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

// One job after another for about `ms`: per-op times.
async function serial(lib, ms) {
  const times = [];
  const end = nowMs() + ms;
  while (nowMs() < end || times.length < 3) {
    const t0 = nowMs();
    await lib.job();
    times.push(nowMs() - t0);
  }
  return times;
}

// `streams` jobs at once for about `ms`, each stream one job after another: ops per second.
async function parallel(lib, streams, ms) {
  let ops = 0;
  const c0 = process.cpuUsage();
  const t0 = nowMs();
  const end = t0 + ms;
  const stream = async () => {
    while (nowMs() < end) {
      await lib.job();
      ops++;
    }
  };
  await Promise.all(Array.from({ length: streams }, stream));
  const wall = nowMs() - t0;
  const c = process.cpuUsage(c0);
  return { rate: (ops * 1000) / wall, cores: (c.user + c.system) / 1000 / wall };
}

function requireTimes(modPath, runs) {
  const code = `const t0 = process.hrtime.bigint(); require(${JSON.stringify(modPath)}); ` +
    'process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));';
  const out = [];
  for (let i = 0; i < runs; i++) out.push(Number(execFileSync(process.execPath, ['-e', code], { encoding: 'utf8' })));
  return out;
}

function du(paths) {
  if (!paths.length) return 0;
  const out = execFileSync('du', ['-sbcL', ...paths], { encoding: 'utf8' }).trim().split('\n');
  return Number(out[out.length - 1].split(/\s+/)[0]);
}

// sharp and what it pulls in: its dependencies and the optional ones installed (@img/*), recursively.
function packageClosure(pkgDir) {
  const nm = path.dirname(pkgDir).endsWith('@img') ? path.dirname(path.dirname(pkgDir)) : path.dirname(pkgDir);
  const seen = new Set();
  const visit = (dir) => {
    if (seen.has(dir) || !fs.existsSync(path.join(dir, 'package.json'))) return;
    seen.add(dir);
    const pj = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    for (const dep of Object.keys({ ...pj.dependencies, ...pj.optionalDependencies })) visit(path.join(nm, dep));
  };
  visit(pkgDir);
  return [...seen];
}

// libthumb as installed: the package's files and the .node, plus the shared libraries it loads that
// a Lambda zip carries beside it (libjpeg, libspng, liblcms2; zlib and glibc are in the base image).
function thumbFootprint() {
  const pj = JSON.parse(fs.readFileSync(path.join(thumbPath, 'package.json'), 'utf8'));
  const files = ['package.json', 'index.js', 'index.d.ts', path.join('build', 'Release', 'libthumb.node')]
    .map((f) => path.join(thumbPath, f)).filter((f) => fs.existsSync(f));
  const addon = path.join(thumbPath, 'build', 'Release', 'libthumb.node');
  const libs = execFileSync('ldd', [addon], { encoding: 'utf8' }).split('\n')
    .map((l) => /^\s*(lib(jpeg|spng|lcms2)[^ ]*) => (\S+)/.exec(l)).filter(Boolean).map((m) => fs.realpathSync(m[3]));
  return { version: pj.version, pkg: du(files), libs: du(libs), libNames: libs.map((l) => path.basename(l)) };
}

function fmtMs(x) { return x.toFixed(2); }
function fmtKB(b) { return b >= 1048576 ? `${(b / 1048576).toFixed(1)} MB` : `${(b / 1024).toFixed(0)} KB`; }

async function main() {
  const rounds = quick ? 2 : 9;
  const roundMs = quick ? 200 : 1000;
  const parMs = quick ? 300 : 2000;
  process.stderr.write(`node_vs_sharp: ${quick ? 'quick' : 'full'} run, ${rounds} rounds of ${roundMs} ms per library\n`);

  // warm-up: load paths, pool threads, caches
  for (const lib of LIBS) await serial(lib, quick ? 100 : 500);

  const times = { libthumb: [], sharp: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 ? [...LIBS].reverse() : LIBS;
    for (const lib of order) times[lib.name].push(...(await serial(lib, roundMs)));
  }
  const med = { libthumb: median(times.libthumb), sharp: median(times.sharp) };

  const par = {};
  for (const lib of LIBS) {
    const one = [], two = [], cores = [];
    for (let r = 0; r < (quick ? 1 : 3); r++) {
      one.push((await parallel(lib, 1, parMs)).rate);
      const p2 = await parallel(lib, 2, parMs);
      two.push(p2.rate);
      cores.push(p2.cores);
    }
    par[lib.name] = { one: median(one), two: median(two), cores: median(cores) };
  }

  const reqRuns = quick ? 3 : 9;
  const req = { libthumb: median(requireTimes(thumbPath, reqRuns)), sharp: median(requireTimes(sharpPath, reqRuns)) };

  const tf = thumbFootprint();
  const sharpPkgs = packageClosure(sharpPath);
  const sharpSize = du(sharpPkgs);
  const sharpVersion = JSON.parse(fs.readFileSync(path.join(sharpPath, 'package.json'), 'utf8')).version;

  const load = os.loadavg()[0].toFixed(2);
  const out = [];
  out.push(`## libthumb (Node) vs sharp: the avatar job${quick ? ' (--quick: sanity run, not for the record)' : ''}`);
  out.push('');
  out.push(`\`sharp(buf).resize(512, 512).jpeg().toBuffer()\` on ${path.basename(avatarPath)} (2725x2225) -> 512x512 JPEG q80, ` +
    `the same chain on both, in one node ${process.version} process; libthumb ${tf.version} (${thumb.versions.simd}), ` +
    `sharp ${sharpVersion} (libvips ${sharp.versions.vips}); ${os.cpus().length} CPUs, load average ${load} at the end.`);
  out.push(`One core each: sharp.concurrency(1) and one job awaited at a time; UV_THREADPOOL_SIZE=${POOL} (for the 2-at-once rows).`);
  out.push('');
  out.push('| | libthumb | sharp | libthumb / sharp |');
  out.push('|---|---|---|---|');
  out.push(`| median time per op, one core (${times.libthumb.length} / ${times.sharp.length} ops, ${rounds} alternating rounds) | ` +
    `${fmtMs(med.libthumb)} ms | ${fmtMs(med.sharp)} ms | **${(med.sharp / med.libthumb).toFixed(2)}x** faster (target >= 3x) |`);
  out.push(`| ops/s, one core | ${(1000 / med.libthumb).toFixed(1)} | ${(1000 / med.sharp).toFixed(1)} | |`);
  out.push(`| ops/s, 1 at a time | ${par.libthumb.one.toFixed(1)} | ${par.sharp.one.toFixed(1)} | |`);
  out.push(`| ops/s, 2 at once | ${par.libthumb.two.toFixed(1)} | ${par.sharp.two.toFixed(1)} | |`);
  out.push(`| 2 at once / 1 at a time | **${(par.libthumb.two / par.libthumb.one).toFixed(2)}x** (target >= 1.8x) | ` +
    `${(par.sharp.two / par.sharp.one).toFixed(2)}x | |`);
  out.push(`| CPU cores busy while 2 at once (process CPU time / wall time) | ${par.libthumb.cores.toFixed(2)} | ` +
    `${par.sharp.cores.toFixed(2)} | |`);
  out.push(`| require() in a fresh process (median of ${reqRuns}) | ${fmtMs(req.libthumb)} ms | ${fmtMs(req.sharp)} ms | ` +
    `${(req.sharp / req.libthumb).toFixed(1)}x less |`);
  out.push(`| installed size with native dependencies | ${fmtKB(tf.pkg + tf.libs)} | ${fmtKB(sharpSize)} | ` +
    `${(sharpSize / (tf.pkg + tf.libs)).toFixed(1)}x smaller |`);
  out.push('');
  out.push(`Installed size: libthumb = package files and libthumb.node (${fmtKB(tf.pkg)}) + ${tf.libNames.join(', ')} ` +
    `(${fmtKB(tf.libs)}), what a Lambda zip carries; sharp = ${sharpPkgs.map((p) => path.relative(path.dirname(path.dirname(sharpPath)), p).replace(/^node_modules\//, '')).join(', ')} (du -sb).`);
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
