
// ---- Active Reach loader (appended to the wasm-bindgen glue by scripts/build-pixel.sh) ----
// Exposes window.ar(command, ...args), a queue in the style of fbq/gtag: commands issued before
// the wasm is ready are kept and replayed. `ar('track', event, businessKey)` returns a promise
// of the event ID used.
const arReady = __wbg_init({ module_or_path: new URL('pixel.wasm', import.meta.url) });
const arQueued = (window.ar && window.ar.q) || [];
function arCommand(command, ...args) {
  return arReady.then(() => {
    if (command === 'track') return track(args[0], args[1] ?? undefined);
    if (command === 'eventId') return eventId(args[0], args[1] ?? undefined);
    throw new Error(`ar: unknown command ${command}`);
  });
}
window.ar = arCommand;
// Stub entries are [arguments, resolve, reject] (see the snippet in README.md).
for (const [args, resolve, reject] of arQueued) arCommand(...Array.from(args)).then(resolve, reject);
