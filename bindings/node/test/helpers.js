'use strict';
// Shared by the tests: the corpus ($THUMB_CORPUS, else <repo>/../shared/corpus), the package, sharp.
const fs = require('fs');
const path = require('path');

const repo = path.resolve(__dirname, '..', '..', '..');
const corpus = path.resolve(process.env.THUMB_CORPUS || path.join(repo, '..', 'shared', 'corpus'));
if (!fs.existsSync(path.join(corpus, 'README.md'))) {
  throw new Error(`no image corpus at ${corpus} (set THUMB_CORPUS)`);
}
const file = (rel) => path.join(corpus, rel);
const read = (rel) => fs.readFileSync(file(rel));
const AVATAR = 'photos/2569067123_aca715a2ee_o.jpg';

function listCorpus() {
  const out = [];
  for (const dir of fs.readdirSync(corpus, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const f of fs.readdirSync(path.join(corpus, dir.name)).sort()) {
      if (/\.(jpe?g|png)$/i.test(f)) out.push(`${dir.name}/${f}`);
    }
  }
  return out;
}

// PSNR (dB) between two same-sized raw RGB buffers.
function psnr(a, b) {
  if (a.length !== b.length) throw new Error(`psnr: sizes differ (${a.length} vs ${b.length})`);
  let se = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    se += d * d;
  }
  const mse = se / a.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

module.exports = { repo, corpus, file, read, AVATAR, listCorpus, psnr, thumb: require('..') };
