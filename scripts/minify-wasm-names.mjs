// Rewrites a wasm-bindgen glue file for a module whose import, export and module names wasm-opt
// minified (`--minify-imports-and-exports-and-modules`, which prints the mapping): wasm-bindgen
// names every import `__wbg_<name>_<16 hex digits>`, about 3 KB per module that gzip cannot
// shrink, in the wasm and again in the glue.
//
// node scripts/minify-wasm-names.mjs <mapping.json> <minified.wasm> <glue.js>   (rewrites glue.js)
// Fails, leaving the file alone, when a name it should rewrite is not where it expects it.
import { readFileSync, writeFileSync } from 'node:fs';

const [mappingFile, wasmFile, glueFile] = process.argv.slice(2);
const mapping = JSON.parse(readFileSync(mappingFile, 'utf8'));
const modules = [...new Set(WebAssembly.Module.imports(new WebAssembly.Module(readFileSync(wasmFile))).map((i) => i.module))];
let glue = readFileSync(glueFile, 'utf8');
const fail = (why) => {
  console.error(`minify-wasm-names: ${glueFile}: ${why}`);
  process.exit(1);
};
const escape = (s) => s.replace(/[$]/g, '\\$&');

// The glue's one import object: `"./<name>_bg.js": import0`.
const originals = [...new Set(mapping.imports.map(([module]) => module))];
if (originals.length !== 1 || modules.length !== 1) fail(`expected one import module, found ${originals} -> ${modules}`);
const moduleKey = JSON.stringify(originals[0]);
if (!glue.includes(`${moduleKey}:`)) fail(`no import object for ${moduleKey}`);
glue = glue.replace(`${moduleKey}:`, `${JSON.stringify(modules[0])}:`);

// Each import is one key of that object: `__wbg_…: function(…)`.
for (const [, from, to] of mapping.imports) {
  const key = new RegExp(`\\b${escape(from)}(?=: function)`, 'g');
  const found = glue.match(key)?.length ?? 0;
  if (found !== 1) fail(`import ${from} is the key of ${found} functions, expected 1`);
  glue = glue.replace(key, JSON.stringify(to));
  if (new RegExp(`\\b${escape(from)}\\b`).test(glue)) fail(`import ${from} is used elsewhere`);
}

// Exports are read as `wasm.<name>`.
for (const [from, to] of mapping.exports) {
  glue = glue.replace(new RegExp(`\\bwasm\\.${escape(from)}\\b`, 'g'), `wasm[${JSON.stringify(to)}]`);
}
const left = glue.match(/\bwasm\.[A-Za-z_$][\w$]*/g);
if (left) fail(`export names not in the mapping: ${[...new Set(left)]}`);
writeFileSync(glueFile, glue);
