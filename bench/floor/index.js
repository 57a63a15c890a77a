// The workerd floor for `make bench`: a worker that answers every request 204 without reading
// it, run under `wrangler dev` exactly like the product, so the product's figures can be given
// as ratios to what the runtime itself costs on this machine.
export default {
  async fetch() {
    return new Response(null, { status: 204 });
  },
};
