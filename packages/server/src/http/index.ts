/** @module http: the Fastify app, its routes and the one error handler. */
export { createHttpApp, type HttpAppOptions } from './app.ts';
export { csvLine } from './csv.ts';
export { jsonText, numberText } from './json-text.ts';
