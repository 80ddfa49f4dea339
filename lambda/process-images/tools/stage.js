#!/usr/bin/env node
// Stage the Lambda's files for the zip: node tools/stage.js STAGE_DIR
//
// The handler's own files, a minimal package.json, and the production dependencies as
// package-lock.json lists them (entries not marked dev), copied from this directory's node_modules
// (npm ci) with what Node never loads at run time left out: ES-module and type builds (dist-es,
// dist-types: `require` resolves the "node"/"require" conditions to dist-cjs), *.d.ts, source maps,
// READMEs and changelogs (licences stay). The linked libthumb package (file:../../bindings/node) is
// copied as its run-time files only: package.json, its *.js, and build/Release/*.node - not its C
// sources, CMake files or build tree. The shared libraries are added by ./build afterwards.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const here = path.resolve(__dirname, '..');
const stage = path.resolve(process.argv[2] || '');
if (!process.argv[2]) {
  console.error('usage: node tools/stage.js STAGE_DIR');
  process.exit(2);
}

const HANDLER_FILES = ['index.js', 'handler.js', 'config.js', 's3-image-processing.js'];
const DROP_DIRS = new Set(['dist-es', 'dist-types', 'node_modules', '.bin', 'docs', '__tests__', '.github']);
const DROP_FILE = /(\.d\.[cm]?ts|\.map|\.ts|\.mts|\.cts|^README.*|^CHANGELOG.*|^HISTORY.*|\.md|\.markdown|^\.npmignore|^tsconfig.*\.json|\.html)$/i;

let files = 0;
let bytes = 0;

function copyFile(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
  files++;
  bytes += fs.statSync(to).size;
}

// Copy a registry package's tree, pruned.
function copyTree(from, to) {
  for (const ent of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, ent.name);
    const dst = path.join(to, ent.name);
    if (ent.isDirectory()) {
      if (!DROP_DIRS.has(ent.name)) copyTree(src, dst);
    } else if (ent.isFile()) {
      if (!DROP_FILE.test(ent.name)) copyFile(src, dst);
    } else if (ent.isSymbolicLink()) {
      throw new Error(`unexpected symbolic link in a dependency: ${src}`);
    }
  }
}

// libthumb from bindings/node: only what require('libthumb') loads.
function copyAddonPackage(from, to) {
  const pkg = JSON.parse(fs.readFileSync(path.join(from, 'package.json'), 'utf8'));
  const slim = { name: pkg.name, version: pkg.version, main: pkg.main || 'index.js', license: pkg.license };
  fs.mkdirSync(to, { recursive: true });
  fs.writeFileSync(path.join(to, 'package.json'), JSON.stringify(slim, null, 2) + '\n');
  for (const ent of fs.readdirSync(from, { withFileTypes: true })) {
    if (ent.isFile() && /\.(js|cjs|json)$/.test(ent.name) && !['package.json', 'package-lock.json'].includes(ent.name)) {
      copyFile(path.join(from, ent.name), path.join(to, ent.name));
    }
  }
  for (const dir of ['lib']) {
    if (fs.existsSync(path.join(from, dir))) copyTree(path.join(from, dir), path.join(to, dir));
  }
  const rel = path.join('build', 'Release');
  const addons = fs.existsSync(path.join(from, rel))
    ? fs.readdirSync(path.join(from, rel)).filter((f) => f.endsWith('.node')) : [];
  if (addons.length === 0) throw new Error(`no built addon in ${path.join(from, rel)} (build bindings/node first)`);
  for (const f of addons) copyFile(path.join(from, rel, f), path.join(to, rel, f));
}

const lock = JSON.parse(fs.readFileSync(path.join(here, 'package-lock.json'), 'utf8'));
const pkg = JSON.parse(fs.readFileSync(path.join(here, 'package.json'), 'utf8'));

fs.rmSync(stage, { recursive: true, force: true });
fs.mkdirSync(stage, { recursive: true });
for (const f of HANDLER_FILES) copyFile(path.join(here, f), path.join(stage, f));
fs.writeFileSync(path.join(stage, 'package.json'), JSON.stringify({
  name: pkg.name, version: pkg.version, private: true, main: 'index.js', license: pkg.license,
}, null, 2) + '\n');

const packages = [];
for (const [key, entry] of Object.entries(lock.packages || {})) {
  if (!key.startsWith('node_modules/') || entry.dev) continue;
  const src = path.join(here, key);
  if (!fs.existsSync(src)) {
    if (entry.optional) continue;
    throw new Error(`${key} is a production dependency but is not installed (run npm ci)`);
  }
  const dst = path.join(stage, key);
  if (entry.link) copyAddonPackage(fs.realpathSync(src), dst);
  else copyTree(src, dst);
  packages.push(key.slice('node_modules/'.length));
}
console.log(`stage: ${packages.length} packages, ${files} files, ${(bytes / 1048576).toFixed(2)} MiB -> ${stage}`);
