// make bench: ar-shared (wasm, in Node's V8 — the engine workerd embeds) vs Meta's official Node
// SDK (facebook-nodejs-business-sdk) building the Conversions API body for the same purchase:
// parse the shop's JSON, normalize + hash the customer (email, phone, names, address, external
// id), fbc/fbp, IP/UA, custom data with 3 items, JSON body. Per event and per 1000-event batch.
//
// Rounds alternate between the two so drift on a shared machine hits both; each figure is the
// median per-event time over ROUNDS rounds with the spread (min..max) around it.
//
//   node bench/node/meta_sdk.mjs <wasm-bindgen nodejs pkg dir> [<label>] [<second pkg dir> <label>]
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const PURCHASE = readFileSync(path.join(here, '..', 'purchase.json'), 'utf8').trim();
const ROUNDS = Number(process.env.AR_BENCH_ROUNDS || 11);
const ROUND_MS = Number(process.env.AR_BENCH_ROUND_MS || 250);
const { ServerEvent, UserData, CustomData, Content } = require('facebook-nodejs-business-sdk');

/** The SDK doing the same work: what a merchant's Node backend would run. */
function sdkBody(json, count) {
  const e = JSON.parse(json);
  const u = e.user;
  const data = [];
  for (let i = 0; i < count; i++) {
    const user = new UserData()
      .setEmail(u.email).setPhone(u.phone).setFirstName(u.first_name).setLastName(u.last_name)
      .setCity(u.city).setState(u.state).setZip(u.zip).setCountry(u.country)
      .setExternalId(u.external_id).setClientIpAddress(e.client.ip)
      .setClientUserAgent(e.client.user_agent).setFbc(e.click_ids.fbc).setFbp(e.click_ids.fbp);
    const contents = e.items.map((it) =>
      new Content().setId(it.id).setQuantity(it.quantity).setItemPrice(it.price));
    const order = count === 1 ? e.order_id : `${i}-${e.order_id}`;
    const custom = new CustomData().setValue(e.value).setCurrency(e.currency.toLowerCase())
      .setContents(contents).setOrderId(order);
    const event = new ServerEvent().setEventName('Purchase')
      .setEventTime(Math.floor(e.occurred_at / 1000)).setUserData(user).setCustomData(custom)
      .setActionSource('website').setEventSourceUrl(e.page.url).setEventId(`order-${order}`);
    data.push(event.normalize());
  }
  return JSON.stringify({ data });
}

/** Per-call milliseconds of `f` in one round: a loop calibrated to last about ROUND_MS. */
function round(f, iters) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iters; i++) f();
  return Number(process.hrtime.bigint() - start) / 1e6 / iters;
}

function calibrate(f) {
  let iters = 1;
  for (;;) {
    const ms = round(f, iters) * iters;
    if (ms >= ROUND_MS / 4) return Math.max(1, Math.round(iters * ROUND_MS / Math.max(ms, 0.001)));
    iters *= 2;
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Alternating rounds of `a` and `b`; medians and spreads in µs per event. */
function race(a, b, perCall) {
  const ia = calibrate(a), ib = calibrate(b);
  const ra = [], rb = [];
  for (let r = 0; r < ROUNDS; r++) {
    ra.push(round(a, ia) * 1000 / perCall);
    rb.push(round(b, ib) * 1000 / perCall);
  }
  return { a: stats(ra), b: stats(rb), ratio: median(rb) / median(ra) };
}

function stats(xs) {
  const m = median(xs);
  return { median: m, lo: Math.min(...xs), hi: Math.max(...xs) };
}

const fmt = (s) => `${s.median.toFixed(1)} µs (${s.lo.toFixed(1)}–${s.hi.toFixed(1)})`;

const pkgs = [];
for (let i = 2; i < process.argv.length; i += 2) pkgs.push([process.argv[i], process.argv[i + 1] || '']);
for (const [dir, label] of pkgs) {
  const ours = require(path.resolve(dir, 'ar_bench_wasm.js'));
  // The worker reads the Public Suffix List once per isolate, on its first cookie decision.
  const t0 = process.hrtime.bigint();
  const first = ours.cookie_domain('www.shop.example.co.uk');
  const parseMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (first !== 'example.co.uk') throw new Error(`cookie domain: ${first}`);
  const later = [];
  for (let r = 0; r < ROUNDS; r++) later.push(round(() => ours.cookie_domain('www.shop.example.co.uk'), 10000) * 1000);
  const l = stats(later);
  console.log(`| Public Suffix List, first lookup in an isolate (reads the list; ${label || 'wasm'}) | ${parseMs.toFixed(1)} ms, once | a later lookup: ${fmt(l)} | ${(parseMs * 1000 / l.median).toFixed(0)}× a later lookup |`);
  const one = ours.meta_body(PURCHASE, 1);
  const theirs = JSON.parse(sdkBody(PURCHASE, 1)).data[0];
  const mine = JSON.parse(one).data[0];
  for (const k of ['em', 'ph', 'fn', 'ln', 'ct', 'zp', 'country', 'external_id']) {
    if (!mine.user_data[k]) throw new Error(`ours lacks user_data.${k}: ${one}`);
    if (!theirs.user_data[k]) throw new Error(`the SDK lacks user_data.${k}`);
  }
  // Same normalization where Meta's rules and the SDK agree (meta-capi.md §2.1).
  // (The SDK sends external_id unhashed; we hash it, decisions.md "external_id".)
  for (const k of ['em', 'fn', 'ln', 'zp', 'country']) {
    const t = [].concat(theirs.user_data[k])[0];
    if (mine.user_data[k] !== t) throw new Error(`user_data.${k} differs: ${mine.user_data[k]} vs ${t}`);
  }
  const name = label ? `ar-shared wasm (${label})` : 'ar-shared wasm';
  for (const [what, n] of [['per event', 1], ['per 1000-event batch', 1000]]) {
    const r = race(() => ours.meta_body(PURCHASE, n), () => sdkBody(PURCHASE, n), n);
    console.log(`| Meta body, ${what} | ${name}: ${fmt(r.a)} per event | Meta Node SDK 24.0.1: ${fmt(r.b)} | ${r.ratio.toFixed(2)}× the SDK's speed (aim ≥ 5×) |`);
  }
}
