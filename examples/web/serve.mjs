// A tiny static server for dist/, on its own origin (so CORS to liveness-api is real).
//   node serve.mjs [--listen 127.0.0.1:5173] [--dir dist]
// Prints "serving http://host:port/" once listening (port 0 picks a free one).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    listen: { type: 'string', default: process.env.EXAMPLE_LISTEN || '127.0.0.1:5173' },
    dir: { type: 'string', default: join(here, 'dist') },
  },
});
const root = normalize(values.dir);
const [host, port] = [values.listen.replace(/:\d+$/, ''), Number(values.listen.split(':').pop())];
const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const server = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
  if (file !== root && !file.startsWith(root + sep)) {
    res.writeHead(403).end();
    return;
  }
  try {
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': types[extname(file)] || 'application/octet-stream',
      'cache-control': 'no-store',
    });
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
});
server.listen(port, host, () => {
  const a = server.address();
  console.log(`serving http://${a.address}:${a.port}/ from ${root}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
