// ---- Active Reach loader (appended to the wasm-bindgen glue by scripts/build-pixel.sh) ----
// The asynchronous IO around the synchronous wasm exports: fetch the worker's configuration, boot,
// replay the snippet's queue, load base tags, and send each event to /_ar/collect once the page's
// tags have settled (so its `fired` flags are true). Every decision is the wasm's (ar-shared).
// The worker routes are found next to this script, so a collect host on a subdomain works as is.
// The main-thread time the pixel's own work takes (each synchronous slice, wasm included), for the
// `ar:first-send` mark's detail: `make bench`'s "no long task" figure.
const arClock = { busy: performance.now(), longest: performance.now() };
const arTimed = (f) =>
  function () {
    const t = performance.now();
    try {
      return f.apply(this, arguments);
    } finally {
      const d = performance.now() - t;
      arClock.busy += d;
      arClock.longest = Math.max(arClock.longest, d);
    }
  };
const arBase = new URL('./', import.meta.url);
const arUrl = (path) => new URL(path, arBase).href;
// Each send states the device's clock (ar_shared::collect_guard::SENT_PARAM): the worker dates the
// event by its age at send, so a device clock set wrong shifts nothing.
const arCollect = () => arUrl('collect?sent=' + Math.max(0, Math.floor(Date.now()) || 0));
// The version of each file this loader was built with (scripts/build-pixel.sh writes them;
// ar_shared::browser::files): the worker answers only that version, so this glue never runs
// another build's wasm.
const arVersions = {
  'pixel.wasm': '@AR_V:pixel.wasm@',
  'pixel-hash.js': '@AR_V:pixel-hash.js@',
  'pixel-hash.wasm': '@AR_V:pixel-hash.wasm@',
  'pixel-capture.js': '@AR_V:pixel-capture.js@',
  'pixel-capture.wasm': '@AR_V:pixel-capture.wasm@',
};
const arFile = (name) => arUrl(name + '?v=' + arVersions[name]);
const arText = (path) =>
  fetch(arUrl(path), { credentials: 'include' }).then((r) => {
    if (!r.ok) throw new Error(`ar: ${path} answered HTTP ${r.status}`);
    return r.text();
  });
// The pixel's other modules, each fetched once and only for a page that needs it: pixel-hash
// (ar-pixel-hash) for customer data, pixel-capture (ar-pixel-capture) for click-ID cookies.
const arModules = {};
const arModule = (name) =>
  (arModules[name] =
    arModules[name] ||
    import(arFile(name + '.js')).then(async (m) => {
      await m.default({ module_or_path: arFile(name + '.wasm') });
      return m;
    }));
let arHashFn;
const arHasher = () =>
  arModule('pixel-hash').then((m) => {
    arHashFn = arTimed(m.hash);
  });
const arScripts = [];
// At most `ms` of waiting for `p` (a fetch that hangs must not hold events or commands back).
const arWithin = (p, ms) => Promise.race([p, new Promise((r) => setTimeout(r, ms))]);
// The capture module's cookie writing, for events to wait on (boot's, then any after a consent
// change).
let arCaptured = Promise.resolve();
// The configuration text in use and when it was fetched. An open page revalidates it (a 304 while
// unchanged) when it is shown again and after a command once it is 30 s old, one fetch at a time
// and with no command waiting for it, so a mapping change reaches the page's events after that
// (reconfigure).
let arConfig = ['', 0];
// Whether boot ran (commands can run: at pagehide, those still waiting do).
let arBooted = false;
let arRevalidating;
const arRevalidate = () =>
  (arRevalidating =
    arRevalidating ||
    arText('config')
      .then((text) => {
        const changed = text !== arConfig[0];
        arConfig = [text, performance.now()];
        if (changed) reconfigure(text);
      })
      .catch((e) => console.warn('ar: the configuration was not revalidated:', e.message))
      .then(() => (arRevalidating = undefined)));
const arPending = [];
const arHooks = {
  // The event, and which tags the pixel called for it.
  send(body, called) {
    arPending.push([body, called]);
    arSettled.then(() => arCaptured).then(arFlush, arFlush);
  },
  // A base tag script; the event waits for it to load or fail.
  load(src) {
    arScripts.push(
      new Promise((done) => {
        const s = document.createElement('script');
        s.async = true;
        s.src = src;
        s.onload = s.onerror = done;
        document.head.appendChild(s);
      }),
    );
  },
  // The built-in consent banner: a labelled dialog with two buttons, the first focused, Escape
  // leaving the strict default; a choice is ar('consent', …) like any other.
  banner(text, accept, reject) {
    const box = document.createElement('div');
    box.id = 'ar-banner';
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-label', text);
    box.style.cssText =
      'position:fixed;left:1em;right:1em;bottom:1em;z-index:2147483647;padding:1em;background:#fff;color:#111;border:1px solid #888;font:15px system-ui,sans-serif';
    const p = document.createElement('p');
    p.textContent = text;
    box.appendChild(p);
    const choose = (granted) => {
      box.remove();
      const all = { ad_storage: granted, analytics_storage: granted, ad_user_data: granted, ad_personalization: granted };
      window.ar('consent', all).catch(() => {});
    };
    for (const [label, granted] of [[accept, true], [reject, false]]) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.dataset.arConsent = granted ? 'accept' : 'reject';
      b.style.marginRight = '1em';
      b.onclick = () => choose(granted);
      box.appendChild(b);
    }
    // A statement, not `e.key === 'Escape' && …`: a handler returning false cancels the key, so
    // Tab and Enter would stop working inside the banner.
    box.onkeydown = (e) => {
      if (e.key === 'Escape') box.remove();
    };
    const show = () => {
      document.body.appendChild(box);
      box.querySelector('button').focus();
    };
    document.body ? show() : addEventListener('DOMContentLoaded', show, { once: true });
  },
  // The capture module's cookies for this page (the main module asked only where the edge's
  // rules may write one); events wait for them. The cookies are read again once the module is
  // there: a tag that loaded meanwhile may have written its own, which are then kept.
  capture(args) {
    const write = arTimed((m) => {
      args[2] = document.cookie;
      m.capture.apply(null, args).forEach((c) => (document.cookie = c));
    });
    const done = arModule('pixel-capture').then(write, (e) => console.warn('ar: the capture module did not load:', e.message));
    arCaptured = arCaptured.then(() => arWithin(done, 4000));
  },
  // The hashing module's answer for a user{}; undefined while it is not loaded.
  hash(user, country) {
    return arHashFn && arHashFn(user, country);
  },
  // Whether the inline snippet ran before this module (it defines window.ar): without it the
  // main module issues the consent default itself.
  snippet: typeof window.ar === 'function',
  // The tags' own queueing stubs (meta-capi.md §11.2, google.md §11.2), marked as ours.
  stub(kind) {
    if (kind === 'fbq') {
      const n = (window.fbq = function () {
        n.callMethod ? n.callMethod.apply(n, arguments) : n.queue.push(arguments);
      });
      if (!window._fbq) window._fbq = n;
      Object.assign(n, { push: n, loaded: true, version: '2.0', queue: [], _ar: 1 });
    } else {
      window.dataLayer = window.dataLayer || [];
      (window.gtag = function () {
        window.dataLayer.push(arguments);
      })._ar = 1;
    }
  },
};
const arReady = Promise.all([
  __wbg_init({ module_or_path: arFile('pixel.wasm') }),
  arText('config'),
  // The visitor's region default; without it the snippet's strict default stays.
  arText('region').catch(() => undefined),
]).then(arTimed(([, config, region]) => {
  boot(config, region, arHooks);
  arBooted = true;
  arConfig = [config, performance.now()];
  // GA4 e-commerce pushes, past and future (ar-shared browser::datalayer decides which count).
  const dl = (window.dataLayer = window.dataLayer || []);
  const take = arTimed((entry) => {
    if (entry && typeof entry === 'object' && Object.prototype.toString.call(entry) !== '[object Arguments]')
      try {
        dataLayerPush(entry);
      } catch (e) {
        console.warn(e.message);
      }
  });
  dl.slice().forEach(take);
  const push = dl.push;
  dl.push = function () {
    Array.prototype.forEach.call(arguments, take);
    return push.apply(dl, arguments);
  };
  // A lead form's submit cannot wait for the hashing module: it is fetched ahead when the page
  // has one, or when the shopper focuses a field inside one (a form added later). leadForms()
  // names what a lead form is found by (ar-shared browser::lead_form); undefined while off.
  const ahead = (target) => {
    if (arHashFn) return;
    const names = leadForms();
    const found = names && (target ? target.closest && target.closest(names[0]) : document.querySelector(names[0]));
    if (found) arHasher().catch(() => {});
  };
  document.readyState === 'loading' ? addEventListener('DOMContentLoaded', () => ahead(), { once: true }) : ahead();
  addEventListener('focusin', (e) => ahead(e.target), true);
  // Lead forms report on submit; capturing, and without preventDefault, so the form goes on. The
  // lead id the pixel minted goes into the form's ar_lead_id (a hidden field added when it has
  // none) before the form's data is read, for the shop's backend to report the same lead; it is
  // answered even when the event failed, since the tags may have fired with it. The prototypes'
  // `matches`, `elements` and `appendChild`: a control named so hides the form's own.
  addEventListener(
    'submit',
    arTimed((e) => {
      const form = e.target;
      try {
        const names = leadForms();
        if (!names || !(form instanceof HTMLFormElement) || !Element.prototype.matches.call(form, names[0])) return;
        const controls = Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, 'elements').get.call(form);
        const fields = Array.prototype.filter.call(controls, (i) => i instanceof HTMLInputElement);
        const [id, minted] = formSubmitted(fields.map((i) => [i.name, i.type, i.getAttribute(names[1]), i.value])) || [];
        if (minted !== undefined) {
          let field = fields.find((i) => i.name === names[2]);
          if (!field) {
            field = document.createElement('input');
            field.type = 'hidden';
            field.name = names[2];
            Node.prototype.appendChild.call(form, field);
          }
          field.value = minted;
        }
        if (id instanceof Error) console.warn(id.message);
      } catch (err) {
        console.warn(err.message);
      }
    }),
    true,
  );
  // A TCF CMP on the page is followed instead of the banner (google.md §11.5).
  if (typeof window.__tcfapi === 'function')
    window.__tcfapi('addEventListener', 2, (data, ok) => {
      if (ok && data && (data.eventStatus === 'tcloaded' || data.eventStatus === 'useractioncomplete'))
        try {
          tcf(data);
        } catch (e) {
          // Nothing of ours reaches the CMP's callback as an exception.
          console.warn(e.message);
        }
    });
}));
const arLoaded = new Promise((r) =>
  document.readyState === 'complete' ? r() : addEventListener('load', r, { once: true }),
);
// Tags have settled when the page has loaded (async scripts inserted before it delay it) and our
// base tags have loaded or failed; a page that never finishes loading does not hold events back.
const arSettled = arReady.then(() =>
  Promise.race([Promise.all([arLoaded, ...arScripts]), new Promise((r) => setTimeout(r, 4000))]),
);
// A pixel that could not start says so once (arChain), not as an unhandled rejection per promise.
arSettled.catch(() => {});
// One event the browser cannot serialize (a page object with a cycle or a BigInt passed through)
// is dropped with a warning; the others of the batch still go.
const arFlush = arTimed(() => {
  for (const [body, called] of arPending.splice(0)) {
    let json;
    try {
      body.fired = fired(called);
      json = JSON.stringify(body);
    } catch (e) {
      console.warn('ar: an event could not be sent:', e.message);
      continue;
    }
    arPost(json, 1);
  }
});
// Delivery (ar-shared browser::delivery): the visit's outbox in sessionStorage, keepalive fetch
// with bounded retry, sendBeacon for what is left when the page goes away, the rest on the next
// page. A copy sent twice is merged by the worker.
function arOutbox(change) {
  try {
    const [key, max] = outbox();
    const list = change(JSON.parse(sessionStorage.getItem(key) || '[]'));
    sessionStorage.setItem(key, JSON.stringify(list.slice(-max)));
    return list;
  } catch (e) {
    return [];
  }
}
const arDone = (json) => arOutbox((l) => l.filter((j) => j !== json));
function arPost(json, attempt) {
  if (attempt === 1) arOutbox((l) => (l.includes(json) ? l : l.concat([json])));
  // For `make bench`-style measurements: when the page's first event left.
  if (!performance.getEntriesByName('ar:first-send').length)
    performance.mark('ar:first-send', { detail: { busy_ms: arClock.busy, longest_ms: arClock.longest } });
  const again = (status) => {
    const wait = retryDelay(attempt, status);
    if (wait !== undefined) setTimeout(() => arPost(json, attempt + 1), wait);
    // Refused: drop it. Retries spent: it stays in the outbox for the next page.
    else if (retryDelay(1, status) === undefined) arDone(json);
  };
  fetch(arCollect(), {
    method: 'POST',
    body: json,
    keepalive: true,
    credentials: 'include',
    headers: { 'content-type': 'text/plain' },
  }).then(
    (r) => {
      if (r.ok) return arDone(json);
      // A refusal names the field at fault; it will not change by sending again.
      if (retryDelay(1, r.status) === undefined) r.text().then((t) => console.warn('ar: collect refused an event:', t));
      again(r.status);
    },
    () => again(0),
  );
}
addEventListener('pagehide', () => {
  // Commands still waiting (for the hashing module) run now, without it: the shopper is leaving,
  // and an event without its customer data beats none.
  if (arBooted) {
    arReplay();
    arJobs.slice().forEach((job) => arRun(job).catch(() => {}));
  }
  arFlush();
  for (const json of arOutbox((l) => l)) {
    const beacon = navigator.sendBeacon && navigator.sendBeacon(arCollect(), new Blob([json], { type: 'text/plain' }));
    if (!beacon) fetch(arCollect(), { method: 'POST', body: json, keepalive: true, credentials: 'include', headers: { 'content-type': 'text/plain' } }).catch(() => {});
  }
});
// What an earlier page of the visit could not confirm.
arReady.then(() => arOutbox((l) => l).forEach((json) => arPost(json, 1))).catch(() => {});
// Commands run one after another, in the order they were made: one that waits for the hashing
// module holds back the ones after it. If the module cannot load, the command still runs and
// says what it could not do (an event goes without its customer data).
const arNeedsHasher = (a) => needsHasher(String(a[0]), a.slice(1));
const arAfterHasher = () =>
  arWithin(
    arHasher().catch((e) => console.warn('ar: the hashing module did not load:', e.message)),
    5000,
  );
// Stub entries are [arguments, resolve, reject] (the snippet in README.md); they run in order,
// before any later call.
const arQueued = (window.ar && window.ar.q) || [];
let arReplayed = false;
const arReplay = arTimed(() => {
  if (!arReplayed) {
    arReplayed = true;
    replay(arQueued);
  }
});
let arChain = arReady
  .then(() => arQueued.some((entry) => arNeedsHasher(Array.prototype.slice.call(entry[0]))) && arAfterHasher())
  .then(arReplay, (e) => {
    // Said once, also to a page that made no call yet (a policy refusing WebAssembly, a
    // configuration that did not arrive); every call rejects with the same reason.
    console.warn('ar: the pixel could not start:', e.message);
    arQueued.forEach((entry) => entry[2](e));
  })
  .catch((e) => console.warn(e.message));
const arCommand = arTimed((a) => command(String(a[0]), a.slice(1)));
// The commands made and not run yet, oldest first; each runs once (in the chain, or at pagehide)
// and keeps its outcome.
const arJobs = [];
const arRun = (job) => {
  if (!job.out) {
    arJobs.splice(arJobs.indexOf(job), 1);
    try {
      job.out = Promise.resolve(arCommand(job.a));
    } catch (e) {
      job.out = Promise.reject(e);
    }
  }
  return job.out;
};
window.ar = function () {
  const job = { a: Array.prototype.slice.call(arguments) };
  arJobs.push(job);
  const run = arChain
    .then(() => arReady)
    .then(() => (!job.out && arNeedsHasher(job.a) ? arAfterHasher() : undefined))
    .then(() => arRun(job));
  arChain = run.catch(() => {});
  // Off the chain: no command waits for the revalidation. After a refused command too: a track
  // of an event mapped since the page loaded is refused until the page has the new mapping.
  const stale = () => arBooted && performance.now() - arConfig[1] > 30000 && arRevalidate();
  run.then(stale, stale);
  return run;
};
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') arReady.then(arRevalidate, () => {});
});
// The loader's own evaluation counts as the first slice.
arClock.busy = performance.now() - arClock.busy;
arClock.longest = arClock.busy;
