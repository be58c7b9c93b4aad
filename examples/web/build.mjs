// Bundles the example into dist/ with esbuild.
//   node build.mjs [--production] [--api-url http://127.0.0.1:8080]
// The default is a development build, where React.StrictMode runs effects twice.
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    production: { type: 'boolean', default: false },
    'api-url': { type: 'string', default: process.env.LIVENESS_API_URL || 'http://127.0.0.1:8080' },
    outdir: { type: 'string', default: join(here, 'dist') },
  },
});

mkdirSync(values.outdir, { recursive: true });
cpSync(join(here, 'public'), values.outdir, { recursive: true });
await esbuild.build({
  entryPoints: { app: join(here, 'src/main.jsx') },
  outdir: values.outdir,
  bundle: true,
  format: 'iife',
  target: 'es2020',
  jsx: 'automatic',
  loader: { '.js': 'jsx' },
  minify: values.production,
  sourcemap: true,
  logLevel: 'warning',
  define: {
    'process.env.NODE_ENV': JSON.stringify(values.production ? 'production' : 'development'),
    LIVENESS_API_URL: JSON.stringify(values['api-url']),
    global: 'globalThis',
  },
});
console.log(`built ${values.outdir} (${values.production ? 'production' : 'development'}, api ${values['api-url']})`);
