// A stand-in for dist/server.js in the supervision tests: a real child process that speaks the same
// protocol to its parent (IPC "listening" message, GET /health, GET /v1/models) without a model.
// FAKE_CHILD_EXIT_ON_START=<code> makes it exit before listening (a crash while loading).
const http = require('node:http');
const { parseArgs } = require('node:util');

const { values } = parseArgs({
  args: process.argv.slice(2),
  strict: false,
  options: { model: { type: 'string' }, host: { type: 'string' }, port: { type: 'string' } },
});
if (process.env.FAKE_CHILD_EXIT_ON_START) {
  console.error(`memory-r1 serve: failed to load ${values.model}`);
  process.exit(Number(process.env.FAKE_CHILD_EXIT_ON_START));
}
const model = 'fake-local-model';
const server = http.createServer((req, res) => {
  if (req.url === '/health') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', model }));
  if (req.url === '/v1/models') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model', owned_by: 'test' }] }));
  res.writeHead(404).end();
});
server.on('error', (err) => {
  console.error(`memory-r1 serve: ${err.message}`);
  process.exit(1);
});
server.listen(Number(values.port ?? 0), values.host ?? '127.0.0.1', () => {
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}/v1`;
  console.log(`Model server listening on ${url} (model "${model}").`);
  process.send?.({ type: 'listening', url, model });
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('disconnect', stop);
