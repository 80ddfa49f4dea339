// libthumb's Node addon as a benchmark worker (same line protocol as bench/bench_thumb.c).
// Prints "unavailable REASON" while the addon cannot be loaded (bindings/node, built in place by
// `npm ci` there); the harness then lists it as not measured. job() is the sharp-compatible chain,
// the same calls as sharp_bench.js makes on sharp.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

let thumb;
try {
  thumb = require(process.env.THUMB_NODE_PATH || path.join(__dirname, '..', '..', 'bindings', 'node'));
  if (typeof thumb !== 'function' || typeof thumb.Thumb !== 'function') throw new Error('not the libthumb chain');
} catch (e) {
  process.stdout.write(`unavailable node addon: ${String(e.message || e).split('\n')[0]}\n`);
  process.exit(0);
}

// sharp(buf).resize(512, 512).jpeg({ quality: 80 }).toBuffer() on libthumb: cover, centre, Lanczos3
function job(buf, fmt) {
  const p = thumb(buf).resize(512, 512);
  return (fmt === 'png' ? p.png() : p.jpeg({ quality: 80 })).toBuffer();
}

function rss() {
  const s = fs.readFileSync('/proc/self/status', 'utf8');
  const hwm = /VmHWM:\s+(\d+)/.exec(s), cur = /VmRSS:\s+(\d+)/.exec(s);
  return `${hwm ? hwm[1] : -1} ${cur ? cur[1] : -1}`;
}

async function main() {
  const files = [];
  const out = (s) => process.stdout.write(s + '\n');
  out(`ready libthumb-node ${thumb.version || '?'}`);
  const rl = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of rl) {
    const a = line.trim().split(/\s+/);
    try {
      if (a[0] === 'load') { files.push(fs.readFileSync(line.trim().slice(5))); out(`ok ${files.length - 1}`); }
      else if (a[0] === 'run') {
        const buf = files[+a[1]], n = +a[2];
        const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
        for (let i = 0; i < n; i++) await job(buf);
        const c = process.cpuUsage(c0);
        out(`${process.hrtime.bigint() - t0} ${(c.user + c.system) * 1000}`);
      } else if (a[0] === 'save') { const o = await job(files[+a[1]], a[3]); fs.writeFileSync(a[2], o); out(`ok ${o.length}`); }
      else if (a[0] === 'rss') out(rss());
      else if (a[0] === 'quit') break;
      else out('error bad command');
    } catch (e) { out(`error ${String(e.message || e).replace(/\n/g, ' ')}`); }
  }
  process.exit(0);
}
main().catch((e) => { console.error(e); process.exit(1); });
