import { bundle, GZIP_BUDGET } from './bundle.ts';

// Prints the size of the script-tag build without writing anything.

const { minBytes, gzipBytes } = await bundle();
console.log(`inlet.js  minified ${minBytes} B  gzipped ${gzipBytes} B  (budget ${GZIP_BUDGET} B gzipped)`);
