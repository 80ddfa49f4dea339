// sharp as a long-lived benchmark worker; same line protocol as bench/bench_thumb.c:
//   load PATH -> "ok INDEX"   run INDEX N -> "WALL_NS CPU_NS"   save INDEX PATH jpeg|png -> "ok BYTES"
//   rss -> "HWM_KB RSS_KB"    quit
// One-shot mode for the memory bar: node sharp_bench.js --oneshot IN OUT
// Job: sharp(buf).resize(512, 512).jpeg({quality: 80}).toBuffer(), one thread, no cache.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const sharp = require(process.env.SHARP_PATH ||
  path.join(__dirname, '..', '.peers', 'node', 'node_modules', 'sharp'));

sharp.concurrency(1);
sharp.cache(false);
sharp.simd(true);

function job(buf, fmt) {
  const p = sharp(buf).resize(512, 512);
  return (fmt === 'png' ? p.png() : p.jpeg({ quality: 80 })).toBuffer();
}

function rss() {
  const s = fs.readFileSync('/proc/self/status', 'utf8');
  const hwm = /VmHWM:\s+(\d+)/.exec(s), cur = /VmRSS:\s+(\d+)/.exec(s);
  return `${hwm ? hwm[1] : -1} ${cur ? cur[1] : -1}`;
}

async function oneshot(inp, out) {
  fs.writeFileSync(out, await job(fs.readFileSync(inp), out.endsWith('.png') ? 'png' : 'jpeg'));
}

async function main() {
  if (process.argv[2] === '--oneshot') return oneshot(process.argv[3], process.argv[4]);
  const files = [];
  const out = (s) => process.stdout.write(s + '\n');
  out(`ready sharp ${require(path.join(path.dirname(require.resolve(process.env.SHARP_PATH ||
    path.join(__dirname, '..', '.peers', 'node', 'node_modules', 'sharp'))), '..', 'package.json')).version} ` +
    `libvips ${sharp.versions.vips}`);
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    const a = line.trim().split(/\s+/);
    try {
      if (a[0] === 'load') {
        files.push(fs.readFileSync(line.trim().slice(5)));
        out(`ok ${files.length - 1}`);
      } else if (a[0] === 'run') {
        const buf = files[+a[1]], n = +a[2];
        const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
        for (let i = 0; i < n; i++) {
          const o = await job(buf, 'jpeg');
          if (!o.length) throw new Error('empty output');
        }
        const c = process.cpuUsage(c0);
        out(`${process.hrtime.bigint() - t0} ${(c.user + c.system) * 1000}`);
      } else if (a[0] === 'save') {
        const o = await job(files[+a[1]], a[3] || 'jpeg');
        fs.writeFileSync(a[2], o);
        out(`ok ${o.length}`);
      } else if (a[0] === 'rss') {
        out(rss());
      } else if (a[0] === 'quit') {
        break;
      } else {
        out('error bad command');
      }
    } catch (e) {
      out(`error ${String(e.message || e).replace(/\n/g, ' ')}`);
    }
  }
  process.exit(0);
}
main().catch((e) => { console.error(e); process.exit(1); });
