import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { minify } from 'terser';

/** The script tag must stay cheap for every page that carries it. */
export const GZIP_BUDGET = 4096;

const src = (file: string): string => fileURLToPath(new URL(`../src/${file}`, import.meta.url));

export interface Bundle {
  /** The IIFE for the script tag, minified. */
  iife: string;
  /** The ES module build, for bundlers. */
  esm: string;
  minBytes: number;
  gzipBytes: number;
  /** First 8 hex digits of the IIFE's SHA-256, for the immutable `inlet.<hash>.js` URL. */
  hash: string;
  /** Subresource Integrity value of the IIFE. */
  integrity: string;
}

/**
 * Property names of the tracker's own objects (the store, the ids, the outbox and the sender), which the
 * script-tag build shortens: a browser API's, the wire format's or the public API's name must never be
 * one of them (every `.clear()` would be renamed, a Set's too; bundle.test.ts checks the list against
 * TypeScript's DOM and ES declarations), and the ES module build keeps them all.
 */
export const INTERNAL_PROPS = [
  'anonymousId',
  'session',
  'userId',
  'setUserId',
  'wipe',
  'kv',
  'del',
  'unsent',
  'forget',
  'collectUrl',
  'retryBaseMs',
  'blocked',
  'resend',
  'names',
];

/** Builds both bundles in memory. */
export async function bundle(): Promise<Bundle> {
  const shared = {
    bundle: true,
    write: false,
    target: 'es2020',
    legalComments: 'none',
    charset: 'utf8',
  } as const;
  const [iife, esm] = await Promise.all([
    build({
      ...shared,
      entryPoints: [src('snippet.ts')],
      format: 'iife',
      minify: true,
      mangleProps: new RegExp(`^(${INTERNAL_PROPS.join('|')})$`),
    }),
    build({ ...shared, entryPoints: [src('index.ts')], format: 'esm' }),
  ]);
  // esbuild bundles and minifies; terser's compressor, run over that, finds ~190 gzipped bytes more
  // (5 %: expressions folded across statements, which esbuild's single pass leaves). hoist_funs moves
  // function declarations, which JavaScript hoists anyway, to the top of their scope, where their
  // `var` neighbours join one declaration.
  const minified = await minify(iife.outputFiles[0]?.text ?? '', {
    compress: { passes: 2, hoist_funs: true },
    ecma: 2020,
    format: { comments: false },
  });
  const iifeText = minified.code ?? '';
  const bytes = Buffer.from(iifeText);
  return {
    iife: iifeText,
    esm: esm.outputFiles[0]?.text ?? '',
    minBytes: bytes.length,
    gzipBytes: gzipSync(bytes, { level: 9 }).length,
    hash: createHash('sha256').update(bytes).digest('hex').slice(0, 8),
    integrity: `sha384-${createHash('sha384').update(bytes).digest('base64')}`,
  };
}
